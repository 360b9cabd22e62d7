/**
 * Close codes (RFC 6455 §7.4) and the close-reason rules shared by the parser, the encoder and
 * the connection state machine.
 */

/** Close status codes by name (RFC 6455 §7.4.1 and the IANA registry, §11.7). */
export const CloseCode = {
  /** 1000: the purpose of the connection was fulfilled. */
  NORMAL: 1000,
  /** 1001: the endpoint is going away (server shutting down, page navigated away). */
  GOING_AWAY: 1001,
  /** 1002: the peer broke the protocol. */
  PROTOCOL_ERROR: 1002,
  /** 1003: a data type the endpoint cannot accept. */
  UNSUPPORTED_DATA: 1003,
  /** 1005: local only — the close frame carried no code. Never on the wire. */
  NO_STATUS: 1005,
  /** 1006: local only — the connection closed without a close frame. Never on the wire. */
  ABNORMAL: 1006,
  /** 1007: data inconsistent with the message type (invalid UTF-8 in text). */
  INVALID_DATA: 1007,
  /** 1008: a policy violation (here: a peer that does not read its data). */
  POLICY_VIOLATION: 1008,
  /** 1009: a message too big to process. */
  MESSAGE_TOO_BIG: 1009,
  /** 1011: an unexpected condition on the server. */
  INTERNAL_ERROR: 1011,
} as const;

/** Largest close reason in bytes: §5.5 a control payload is at most 125 bytes, 2 of them the code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * RFC 6455 §7.4.1/§7.4.2 and the IANA registry: the close codes an endpoint may put on the
 * wire. 1004 is reserved, 1005/1006/1015 are for local use only, 1016–2999 are unassigned.
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/**
 * `reason` cut to at most `maxBytes` bytes of UTF-8 without splitting a character, so the
 * peer's UTF-8 check (§8.1) never fails on a reason we shortened.
 */
export function truncateReason(reason: string, maxBytes = MAX_CLOSE_REASON_BYTES): string {
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= maxBytes) return reason;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) to the first byte of the character cut in two.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
