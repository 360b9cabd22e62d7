/**
 * What a row of a results file may be called. The rule is a shape, not a list of names: a
 * report reads a file written by a run that registered transports of its own, or ran rows this
 * build does not know (link rows, clustered rows, variants), and must take every row that a
 * registry could have produced. The registry refuses a transport whose name breaks it, so
 * whatever it accepts, a report accepts.
 */

/** Characters of a transport's name: lower-case letters, digits, `.`, `+` and `-` after a first letter (`socket.io-ws`, `ws+deflate`, `sse-h2`). */
const CHARS = '[a-z0-9.+-]';
/** A link's name after `@`: lower-case letters, digits, `.`, `+` and `-` (`3g`, `cable`). */
const LINK = `[a-z0-9]${CHARS}{0,63}`;

/** A name the registry takes for a transport (`registerTransport`): at most 48 characters, so the rows made of it fit below. */
export const TRANSPORT_NAME = new RegExp(`^[a-z]${CHARS}{0,47}$`);

/**
 * A row's name in a results file: a transport's name with what the run added to it (`-n4` for
 * nodes, `+deflate`, `-node`; at most 80 characters), then optionally `@` and the link it ran
 * over (`websocket@3g`).
 */
export const ROW_NAME = new RegExp(`^[a-z]${CHARS}{0,79}(?:@${LINK})?$`);

/** The rule of a transport's name in words, for the message that refuses one. */
export const TRANSPORT_NAME_RULE = 'at most 48 lower-case letters, digits, ".", "+" and "-", starting with a letter';

/** The rule of a row's name in words, for the message that refuses one. */
export const ROW_NAME_RULE = 'lower-case letters, digits, ".", "+" and "-", starting with a letter; a link row adds "@" and the link\'s name';
