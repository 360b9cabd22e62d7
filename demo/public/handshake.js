// @ts-check
// The handshake panel: the upgrade's request and response, and the accept key worked out again.
import { $ } from './dom.js';

/** @typedef {import('./types.js').Handshake} Handshake */

/** RFC 6455 §1.3: the GUID appended to the key before hashing. */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** @param {Uint8Array} bytes */
function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}
/**
 * Shows a WebSocket handshake: both heads, notes on what was offered and accepted, and the
 * Sec-WebSocket-Accept computed again in the page (RFC 6455 §4.2.2).
 * @param {Handshake} hs
 */
export async function showHandshake(hs) {
  $('#hs-request').textContent = hs.request.join('\n');
  $('#hs-response').textContent = hs.response.trim();
  const has = (/** @type {string[]} */ lines, /** @type {string} */ name) => lines.some((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'));
  const resLines = hs.response.split('\r\n');
  const notes = [];
  if (has(hs.request, 'Sec-WebSocket-Extensions') && !has(resLines, 'Sec-WebSocket-Extensions')) {
    notes.push('The browser offered permessage-deflate; the server did not accept it, so frames travel uncompressed and RSV1 stays 0.');
  } else if (has(resLines, 'Sec-WebSocket-Extensions')) {
    notes.push(
      'The server accepted permessage-deflate (RFC 7692): each data message travels compressed with RSV1 = 1 on its first frame. ' +
        'With no context takeover both ways, every message is compressed on its own, so the inspector can inflate each frame.',
    );
  }
  if (!has(hs.request, 'Sec-WebSocket-Protocol')) {
    notes.push('No Sec-WebSocket-Protocol was offered (the page named no subprotocol), so the response names none.');
  }
  if (hs.via === 'h2 extended CONNECT') {
    notes.push(
      'RFC 8441: this WebSocket is one stream of the page’s HTTP/2 connection (#' +
        hs.connection +
        '): a CONNECT with :protocol websocket, answered 200. No Sec-WebSocket-Key or Accept: the stream is new by construction. Frames follow as the stream’s DATA.',
    );
    $('#acc-verdict').textContent = 'no key and no accept over HTTP/2 (RFC 8441 §5)';
  } else {
    notes.push('After the blank line that ends the 101 response, HTTP is over on this connection: only frames follow.');
  }
  $('#hs-notes').textContent = notes.join(' ');
  const keyLine = hs.request.find((l) => /^sec-websocket-key:/i.test(l));
  const acceptLine = hs.response.split('\r\n').find((l) => /^sec-websocket-accept:/i.test(l));
  if (!keyLine || !acceptLine) return;
  const key = keyLine.slice(keyLine.indexOf(':') + 1).trim();
  const serverAccept = acceptLine.slice(acceptLine.indexOf(':') + 1).trim();
  $('#acc-key').textContent = key;
  const concat = key + GUID;
  $('#acc-concat').textContent = concat;
  $('#acc-server').textContent = serverAccept;
  if (!(window.crypto && crypto.subtle)) {
    $('#acc-sha1').textContent = 'crypto.subtle is only available on secure origins (open the demo on 127.0.0.1)';
    return;
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-1', new TextEncoder().encode(concat)));
  $('#acc-sha1').textContent = hex(digest);
  const b64 = btoa(String.fromCharCode(...digest));
  $('#acc-base64').textContent = b64;
  const v = $('#acc-verdict');
  v.textContent = b64 === serverAccept ? '✓ matches what this page computed' : '✗ does not match';
  v.className = b64 === serverAccept ? 'ok' : 'bad';
}

/**
 * What the pane's WebSocket travels on, as its handshake says.
 * @param {Handshake} hs
 */
export function handshakeProtocol(hs) {
  return hs.via === 'h2 extended CONNECT' ? 'h2 extended CONNECT (RFC 8441), connection #' + hs.connection : 'HTTP/1.1 Upgrade, its own connection';
}
