/**
 * What a row of a results file may be called. The rule is a shape, not a list of names: a
 * report reads a file written by a run that registered transports of its own, or ran rows this
 * build does not know (link rows, clustered rows, variants), and must take every row that a
 * registry could have produced. The registry refuses a transport whose name breaks it, so
 * whatever it accepts, a report accepts.
 */

/** A transport's own name: a lower-case letter, then lower-case letters, digits, `.`, `+` and `-` (`socket.io-ws`, `ws+deflate`, `websocket-n4`, `sse-h2`). */
const TRANSPORT = '[a-z][a-z0-9.+-]{0,62}';
/** A link's name after `@`: lower-case letters, digits, `.`, `+` and `-` (`3g`, `cable`). */
const LINK = '[a-z0-9][a-z0-9.+-]{0,30}';

/** A name the registry takes for a transport (`registerTransport`). */
export const TRANSPORT_NAME = new RegExp(`^${TRANSPORT}$`);

/** A row's name in a results file: a transport's name, then optionally `@` and the link it ran over (`websocket@3g`). */
export const ROW_NAME = new RegExp(`^${TRANSPORT}(?:@${LINK})?$`);

/** The rule in words, for the messages that refuse a name. */
export const ROW_NAME_RULE = 'lower-case letters, digits, ".", "+" and "-", starting with a letter; a link row adds "@" and the link\'s name';
