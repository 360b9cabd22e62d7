/** The lab's WebSocket engine (RFC 6455): sans-I/O parser and encoder, handshake, adapters. */
export { ProtocolError, HandshakeError, PROTOCOL_ERRORS, protocolError, closeFrameForError } from './errors.ts';
export type { ProtocolErrorCode } from './errors.ts';
export { Utf8Validator, isValidUtf8 } from './utf8.ts';
export { mask, xorMaskRange, randomMaskKey, writeRandomMaskKey } from './mask.ts';
export {
  FrameParser,
  EventCollector,
  parseChunks,
  DEFAULT_MAX_MESSAGE_BYTES,
} from './parser.ts';
export { CloseCode, isValidCloseCode, truncateReason, MAX_CLOSE_REASON_BYTES } from './close.ts';
export { ConnectionProtocol, ReadyState } from './core.ts';
export type { ConnectionProtocolOptions, ProtocolOutput, FrameObserver, ReadyStateValue } from './core.ts';
export type { ParserHandler, ParserOptions, ParserEvent } from './parser.ts';
export {
  Opcode,
  frameHeaderSize,
  writeFrameHeader,
  encodeFrameInto,
  encodeFrame,
  encodeFrameParts,
  encodeClosePayload,
  encodeClose,
  describeFrame,
} from './frame.ts';
export type { FrameOptions, FrameDescription } from './frame.ts';
export {
  WEBSOCKET_GUID,
  computeAccept,
  makeKey,
  validateUpgradeRequest,
  checkUpgradeResponse,
  parseResponseHead,
  TokenStore,
  headerValue,
  tokenList,
} from './handshake.ts';
export type {
  HeaderMap,
  UpgradeRequest,
  UpgradeOptions,
  UpgradeDecision,
  UpgradeResponseCheck,
  ProtocolSelector,
  ResponseHead,
} from './handshake.ts';
export { WebSocketConnection, DEFAULT_MAX_BUFFERED_BYTES } from './connection.ts';
export type {
  ConnectionOptions,
  SendOptions,
  HeartbeatEvent,
  HandshakeInfo,
} from './connection.ts';
export { WebSocketServer, abortHandshake, rawRequestLines } from './server.ts';
export type { ServerOptions } from './server.ts';
export { connect, HANDSHAKE_TIMEOUT_MS, upgradeRequestLines } from './client.ts';
export type { ConnectOptions, UpgradeOffers } from './client.ts';
export { connectH2, openH2Session, validateExtendedConnect, isExtendedConnect, H2_WEBSOCKET_SETTINGS } from './h2.ts';
export type { ConnectH2Options } from './h2.ts';
