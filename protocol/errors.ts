/**
 * Errors of the frame engine. Every protocol violation is raised through `protocolError()` and
 * carries both a stable string code and the RFC 6455 close code it maps to, so the connection
 * only has to send `closeCode` back (RFC 6455 §7.1.7 "Fail the WebSocket Connection").
 */
import { CloseCode, truncateReason } from './close.ts';

/** Stable identifiers of every protocol violation the engine detects, with their close codes. */
export const PROTOCOL_ERRORS = {
  /** RFC 6455 §5.1: a server MUST close the connection upon receiving an unmasked frame. */
  WS_ERR_UNMASKED_FRAME: { closeCode: CloseCode.PROTOCOL_ERROR, message: 'client frame is not masked' },
  /** RFC 6455 §5.1: a client MUST close the connection if it detects a masked frame. */
  WS_ERR_UNEXPECTED_MASK: { closeCode: CloseCode.PROTOCOL_ERROR, message: 'server frame is masked' },
  /** RFC 6455 §5.2: RSV bits MUST be 0 unless an extension defines them. */
  WS_ERR_UNEXPECTED_RSV: { closeCode: CloseCode.PROTOCOL_ERROR, message: 'RSV bit set without a negotiated extension' },
  /** RFC 6455 §5.2: unknown opcodes MUST fail the connection. */
  WS_ERR_INVALID_OPCODE: { closeCode: CloseCode.PROTOCOL_ERROR, message: 'unknown opcode' },
  /** RFC 6455 §5.5: control frames carry at most 125 bytes of payload. */
  WS_ERR_CONTROL_FRAME_TOO_LONG: { closeCode: CloseCode.PROTOCOL_ERROR, message: 'control frame payload over 125 bytes' },
  /** RFC 6455 §5.5: control frames MUST NOT be fragmented. */
  WS_ERR_FRAGMENTED_CONTROL_FRAME: { closeCode: CloseCode.PROTOCOL_ERROR, message: 'fragmented control frame' },
  /** RFC 6455 §5.4: a continuation frame needs a data frame with FIN=0 before it. */
  WS_ERR_UNEXPECTED_CONTINUATION: { closeCode: CloseCode.PROTOCOL_ERROR, message: 'continuation frame without a message to continue' },
  /** RFC 6455 §5.4: fragments of one message cannot be interleaved with another data frame. */
  WS_ERR_EXPECTED_CONTINUATION: { closeCode: CloseCode.PROTOCOL_ERROR, message: 'new data frame inside a fragmented message' },
  /** RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length". */
  WS_ERR_NON_MINIMAL_LENGTH: { closeCode: CloseCode.PROTOCOL_ERROR, message: 'payload length not in its shortest form' },
  /** RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0. */
  WS_ERR_INVALID_LENGTH: { closeCode: CloseCode.PROTOCOL_ERROR, message: 'invalid 64-bit payload length' },
  /** RFC 6455 §8.1: text must be valid UTF-8; §7.4.1: 1007 for inconsistent data. */
  WS_ERR_INVALID_UTF8: { closeCode: CloseCode.INVALID_DATA, message: 'invalid UTF-8 in text' },
  /** RFC 6455 §7.4.1: 1009 for a message too big to process. */
  WS_ERR_MESSAGE_TOO_BIG: { closeCode: CloseCode.MESSAGE_TOO_BIG, message: 'message exceeds the size limit' },
  /** RFC 6455 §5.5.1: a close body, if present, starts with a 2-byte code. */
  WS_ERR_INVALID_CLOSE_PAYLOAD: { closeCode: CloseCode.PROTOCOL_ERROR, message: 'close frame with a 1-byte payload' },
  /** RFC 6455 §7.4: only some close codes may appear on the wire. */
  WS_ERR_INVALID_CLOSE_CODE: { closeCode: CloseCode.PROTOCOL_ERROR, message: 'close code not allowed on the wire' },
  /** RFC 7692 §7.2.2: a compressed message that does not inflate; 1007, data inconsistent with its type. */
  WS_ERR_INFLATE: { closeCode: CloseCode.INVALID_DATA, message: 'compressed message does not inflate' },
  /** RFC 6455 §7.4.1: 1008 for a policy violation — here, a peer that does not read. */
  WS_ERR_BUFFER_OVERFLOW: { closeCode: CloseCode.POLICY_VIOLATION, message: 'send buffer limit exceeded' },
} as const;

/** One of the stable error codes in `PROTOCOL_ERRORS`. */
export type ProtocolErrorCode = keyof typeof PROTOCOL_ERRORS;

/** A protocol violation: the connection must be failed with `closeCode`. */
export class ProtocolError extends Error {
  /** Stable machine-readable identifier, e.g. `'WS_ERR_UNMASKED_FRAME'`. */
  readonly code: ProtocolErrorCode;
  /** The RFC 6455 close code to send to the peer (1002, 1007, 1008, 1009). */
  readonly closeCode: number;

  constructor(code: ProtocolErrorCode, message: string, closeCode: number) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.closeCode = closeCode;
  }
}

/** The single factory for protocol errors; `detail` is appended to the standard message. */
export function protocolError(code: ProtocolErrorCode, detail?: string): ProtocolError {
  const spec = PROTOCOL_ERRORS[code];
  return new ProtocolError(code, detail ? `${spec.message}: ${detail}` : spec.message, spec.closeCode);
}

/**
 * The one place where an error becomes a close frame. Protocol errors send their own code and
 * message; anything else is an internal failure and becomes 1011 without leaking its details
 * (RFC 6455 §7.4.1: 1011 "encountered an unexpected condition").
 */
export function closeFrameForError(err: unknown): { code: number; reason: string } {
  if (err instanceof ProtocolError) return { code: err.closeCode, reason: truncateReason(err.message) };
  return { code: CloseCode.INTERNAL_ERROR, reason: 'internal error' };
}

/** A failed opening handshake as seen by a client: carries the HTTP status when there was one. */
export class HandshakeError extends Error {
  /** HTTP status of the server's answer (401, 403, 426, …), or 0 when none was received. */
  readonly status: number;

  constructor(message: string, status = 0) {
    super(message);
    this.name = 'HandshakeError';
    this.status = status;
  }
}
