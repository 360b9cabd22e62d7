/** The lab's WebSocket engine (RFC 6455): sans-I/O parser and encoder, handshake, adapters. */
export { ProtocolError, HandshakeError, PROTOCOL_ERRORS, protocolError, closeFrameForError } from './errors.ts';
export type { ProtocolErrorCode } from './errors.ts';
export { Utf8Validator, isValidUtf8 } from './utf8.ts';
export { mask, xorMaskRange, randomMaskKey, writeRandomMaskKey } from './mask.ts';
export {
  FrameParser,
  EventCollector,
  parseChunks,
  isValidCloseCode,
  DEFAULT_MAX_MESSAGE_SIZE,
} from './parser.ts';
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
} from './handshake.ts';
export { WebSocketConnection, ReadyState, DEFAULT_MAX_BUFFERED_AMOUNT } from './connection.ts';
export type {
  ConnectionOptions,
  SendOptions,
  HeartbeatEvent,
  HandshakeInfo,
  FrameObserver,
  ReadyStateValue,
} from './connection.ts';
export { WebSocketServer, abortHandshake, rawRequestLines } from './server.ts';
export type { ServerOptions } from './server.ts';
export { connect } from './client.ts';
export type { ConnectOptions } from './client.ts';
