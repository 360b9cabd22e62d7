/** How the inspector describes a WebSocket frame to the page, inflating compressed messages when it can. */
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';
import { describeFrame } from '../protocol/index.ts';

/** RFC 7692 §7.2.2: the 4 octets a sender removed from the end of a compressed message. */
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * The message a compressed (RSV1) single-frame message inflates to, or null when it cannot be
 * inflated on its own: its compressor kept a context from earlier messages, or the message goes
 * on in continuation frames. Bounded: a frame that inflates past 64 KiB is not shown.
 */
function inflateForPage(payload: Buffer): Buffer | null {
  try {
    return inflateRawSync(Buffer.concat([payload, DEFLATE_TAIL]), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: 64 * 1024 });
  } catch {
    return null;
  }
}

/**
 * A frame as the page shows it: the description's fields, bytes as hex (long payloads cut).
 * `inCompressedMessage`: this frame continues a message whose first frame had RSV1 set.
 */
export function frameForPage(bytes: Buffer, dir: 'in' | 'out', inCompressedMessage = false) {
  const d = describeFrame(bytes);
  const SHOW = 64;
  const hex = (b: Buffer | null) => (b ? b.subarray(0, SHOW).toString('hex') : null);
  // RFC 7692 §6: RSV1 on a data message's first frame marks the whole message compressed (permessage-deflate).
  const compressed = (d.rsv1 && (d.opcode === 0x1 || d.opcode === 0x2)) || (d.opcode === 0x0 && inCompressedMessage);
  const inflated = compressed && d.fin ? inflateForPage(d.payload) : null;
  const isText = (d.opcode === 0x1 || d.opcode === 0x0) && !(compressed && inflated === null);
  const shown = inflated ?? d.payload;
  return {
    dir,
    at: Date.now(),
    fin: d.fin,
    rsv1: d.rsv1,
    rsv2: d.rsv2,
    rsv3: d.rsv3,
    opcode: d.opcode,
    opcodeName: d.opcodeName,
    masked: d.masked,
    lengthForm: d.lengthForm,
    payloadLength: d.payloadLength,
    headerLength: d.headerLength,
    frameLength: d.frameLength,
    header: bytes.subarray(0, d.headerLength).toString('hex'),
    maskingKey: d.maskingKey,
    maskedPayload: hex(d.maskedPayload),
    payload: hex(d.payload),
    truncated: d.payload.length > SHOW,
    compressed,
    inflatedLength: inflated?.length ?? null,
    inflated: hex(inflated),
    text: isText ? shown.subarray(0, 200).toString('utf8') : null,
    ...(d.close && { close: d.close }),
  };
}
