// @ts-check
// The frame inspector's rendering: one WebSocket frame, bit by bit (RFC 6455 §5.2, RFC 7692).
import { esc } from './dom.js';

/** @typedef {import('./types.js').Frame} Frame */

/** The control frames a pane counts as heartbeats. */
export const CONTROL = new Set(['ping', 'pong']);
/** @param {string} label @param {string | number} value @param {string} [cls] */
function field(label, value, cls) {
  return '<span class="field' + (cls ? ' ' + cls : '') + '"><b>' + label + '</b>' + value + '</span>';
}
/** @param {string | null} h */
function spaced(h) {
  return h ? h.replace(/(..)(?=.)/g, '$1 ') : '';
}
/**
 * The frame's element, its fields as data attributes (what the browser tests read).
 * @param {Frame} f
 */
export function frameElement(f) {
  const div = document.createElement('div');
  const fromPage = f.dir === 'in';
  div.className = 'frame ' + (fromPage ? 'in' : 'out') + (CONTROL.has(f.opcodeName) || f.opcodeName === 'close' ? ' control' : '');
  div.dataset.dir = fromPage ? 'page-to-server' : 'server-to-page';
  div.dataset.opcode = f.opcodeName;
  div.dataset.masked = String(f.masked);
  div.dataset.fin = String(f.fin);
  div.dataset.key = f.maskingKey || '';
  div.dataset.maskedPayload = f.maskedPayload || '';
  div.dataset.payload = f.payload || '';
  div.dataset.lengthForm = String(f.lengthForm);
  div.dataset.rsv1 = String(f.rsv1);
  div.dataset.inflated = f.inflated || '';
  return div;
}

/**
 * The frame's title line: its opcode, size, direction and time.
 * @param {Frame} f
 */
function frameTitle(f) {
  const dir = f.dir === 'in' ? 'page → server' : 'server → page';
  return (
    '<div class="title">' +
    esc(f.opcodeName) +
    ' frame, ' +
    f.frameLength +
    ' bytes ' +
    '<span class="dir">' +
    dir +
    ' · ' +
    new Date(f.at).toLocaleTimeString() +
    '</span></div>'
  );
}

/**
 * The two header bytes bit by bit (RFC 6455 §5.2): FIN, RSV1-3 and the opcode, then MASK and the
 * length with its extended form.
 * @param {Frame} f
 */
function headerFields(f) {
  const b0 = parseInt(f.header.slice(0, 2), 16);
  const b1 = parseInt(f.header.slice(2, 4), 16);
  const bits = (/** @type {number} */ n) => n.toString(2).padStart(8, '0');
  const len7 = b1 & 0x7f;
  const extHex = f.header.slice(4, 4 + (f.lengthForm === 16 ? 4 : f.lengthForm === 64 ? 16 : 0));
  const rsvNote =
    f.rsv1 && f.compressed
      ? ' (RSV1: compressed, permessage-deflate)'
      : f.compressed
        ? ' (a continuation: the first frame’s RSV1 marked the message compressed)'
        : '';
  let html = field('byte 0', bits(b0));
  html += field('FIN', f.fin ? '1 (last)' : '0 (more follow)');
  html += field('RSV1-3', (f.rsv1 ? 1 : 0) + ' ' + (f.rsv2 ? 1 : 0) + ' ' + (f.rsv3 ? 1 : 0) + rsvNote, f.compressed ? 'rsv1' : undefined);
  html += field('opcode', '0x' + f.opcode.toString(16) + ' ' + esc(f.opcodeName));
  html += field('byte 1', bits(b1));
  html += field('MASK', f.masked ? '1' : '0');
  html += field(
    'length',
    len7 +
      (f.lengthForm === 7
        ? ' (7-bit)'
        : f.lengthForm === 16
          ? ' → 16-bit: ' + spaced(extHex) + ' = ' + f.payloadLength
          : ' → 64-bit: ' + spaced(extHex) + ' = ' + f.payloadLength),
  );
  if (f.masked) html += field('masking key', spaced(f.maskingKey), 'mask');
  return html;
}

/**
 * The payload: as sent and unmasked, and what a compressed one inflates to.
 * @param {Frame} f
 */
function payloadFields(f) {
  if (f.payloadLength === 0) return '';
  let html = '';
  if (f.masked) html += field('payload as sent (masked)', spaced(f.maskedPayload) + (f.truncated ? ' …' : ''), 'payload mask');
  html += field(
    (f.masked ? 'payload unmasked (XOR key)' : 'payload') + (f.compressed ? ', compressed' : ''),
    spaced(f.payload) + (f.truncated ? ' …' : ''),
    'payload',
  );
  if (f.compressed) {
    html += field(
      'inflated',
      f.inflated !== null
        ? f.inflatedLength + ' bytes from ' + f.payloadLength + ': ' + spaced(f.inflated) + ((f.inflatedLength ?? 0) > 64 ? ' …' : '')
        : f.opcode === 0 || !f.fin
          ? 'part of a compressed message sent in several frames: it inflates as a whole'
          : 'not on its own (the compressor kept context from earlier messages)',
      'payload',
    );
  }
  return html;
}

/**
 * What the frame says, read as text: a close's code and reason, or a text payload.
 * @param {Frame} f
 */
function frameText(f) {
  if (f.close) return '<div class="text">close code ' + f.close.code + (f.close.reason ? ', reason "' + esc(f.close.reason) + '"' : '') + '</div>';
  if (f.text !== null && f.payloadLength > 0) return '<div class="text">text: "' + esc(f.text) + '"' + (f.opcode === 0 ? ' (continuation)' : '') + '</div>';
  return '';
}

/**
 * A frame's inner HTML: its title, its bytes field by field, and what it says as text.
 * @param {Frame} f
 */
export function frameHtml(f) {
  return frameTitle(f) + '<div class="bytes">' + headerFields(f) + payloadFields(f) + '</div>' + frameText(f);
}
