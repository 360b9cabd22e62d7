// @ts-check
// transport-lab teaching demo — plain browser JavaScript, no libraries, served as it is written
// (an ES module). Type-checked by `tsc` from its JSDoc: the shapes the server sends are named
// below, and a frame's is the server's own `frameForPage` return type.

/**
 * @typedef {'polling' | 'long-polling' | 'sse' | 'websocket'} PaneName
 * @typedef {{ start: number, end: number | null, empty: boolean }} Request one request on a pane's timeline (a held one has no end yet)
 * @typedef {Record<string, number>} Counters a transport server's counters, as `/stats` gives them
 * @typedef {{
 *   name: PaneName, el: HTMLElement, received: number, latencies: number[], requests: number, empty: number,
 *   reqs: Request[], msgs: number[], pings: number[], base: Counters | null, server: Counters | null, protocol: string
 * }} Pane
 * @typedef {{ name: string, model: string, rttMs: number, ports: Record<PaneName, number> }} Link
 * @typedef {{
 *   pageOrigin: string, h2: boolean, paths: Record<PaneName, string> | false, links: Link[],
 *   heartbeat: { intervalMs: number, maxMissedPongs: number }, appHeartbeat: { intervalMs: number, maxLoss: number },
 *   longPollTimeoutMs: number
 * }} Config what `GET /config` answers
 * @typedef {ReturnType<typeof import('../server.ts').frameForPage>} Frame one frame as the inspector channel sends it
 * @typedef {{ request: string[], response: string, via?: string, connection?: number }} Handshake
 * @typedef {{ endpoint: string, status: number, reason: string, request: string[] }} SecurityEvent
 * @typedef {{ seq: number, sentAt: number, text: string }} Stamped a published message
 */

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const WINDOW_MS = 30000;

/**
 * The element `sel` selects (of the class `kind`, HTMLElement by default). The page is static:
 * a missing element is a bug, which throws here rather than as a null later.
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} sel
 * @param {ParentNode} [root]
 * @param {{ new (): T }} [kind]
 * @returns {T}
 */
function $(sel, root, kind) {
  const e = (root || document).querySelector(sel);
  if (!(e instanceof (kind || HTMLElement))) throw new Error('no element ' + sel);
  return /** @type {T} */ (e);
}
/** @param {string} sel */
const inputOf = (sel) => $(sel, document, HTMLInputElement);
/** The form control an event came from. @param {Event} e */
const controlOf = (e) => /** @type {HTMLInputElement | HTMLSelectElement} */ (e.target);

const clientId = 'page-' + Math.random().toString(36).slice(2, 10);
/** @type {Config} */
let config;

// ---------------------------------------------------------------- per-pane state
/** @type {PaneName[]} */
const NAMES = ['polling', 'long-polling', 'sse', 'websocket'];
const panes = /** @type {Record<PaneName, Pane>} */ ({});
for (const name of NAMES) {
  const el = $('#pane-' + name);
  panes[name] = {
    name,
    el,
    received: 0,
    latencies: [],
    requests: 0,
    empty: 0,
    reqs: [], // { start, end|null, empty }
    msgs: [], // arrival times
    pings: [], // times (websocket only)
    base: null, // server counters at the last reset
    server: null,
    protocol: '', // what its requests travel on, as the server or the browser reported it
  };
}

/** @param {number[]} a */
function median(a) {
  if (a.length === 0) return null;
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  const at = (/** @type {number} */ i) => /** @type {number} */ (s[i]);
  return s.length % 2 ? at(m) : (at(m - 1) + at(m)) / 2;
}

/** @param {number} n */
function fmtBytes(n) {
  if (n < 10000) return n + ' B';
  if (n < 10000000) return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1048576).toFixed(1) + ' MiB';
}

/** @param {Pane} p @param {string} text @param {string} [cls] */
function addLog(p, text, cls) {
  const ol = $('.log', p.el);
  const li = document.createElement('li');
  li.textContent = new Date().toLocaleTimeString() + '  ' + text;
  if (cls) li.className = cls;
  ol.prepend(li);
  while (ol.children.length > 40) ol.lastElementChild?.remove();
}

// A message arrived in a pane: parse the server's stamp and record latency.
/** @param {Pane} p @param {string} data */
function onMessage(p, data) {
  const now = Date.now();
  /** @type {Stamped | null} */
  let m = null;
  try {
    m = JSON.parse(data);
  } catch (_e) {
    m = null;
  }
  if (!m || typeof m.sentAt !== 'number') {
    addLog(p, 'not a publish: ' + data, 'echo');
    return;
  }
  p.received++;
  const lat = now - m.sentAt;
  p.latencies.push(lat);
  if (p.latencies.length > 500) p.latencies.shift();
  p.msgs.push(now);
  addLog(p, '#' + m.seq + ' "' + m.text + '" ' + lat + ' ms');
}

/** @param {Pane} p */
function renderStats(p) {
  const s = p.server;
  const b = p.base || {};
  const d = (/** @type {string} */ k) => (s ? (s[k] ?? 0) - (b[k] || 0) : 0);
  const up = d('bytesRead');
  const down = d('bytesWritten');
  const last = p.latencies.at(-1);
  const med = median(p.latencies);
  const rows = [
    ['messages received', String(p.received)],
    ['protocol', p.protocol || '–'],
    ['latency last / median', last === undefined || med === null ? '–' : last + ' ms / ' + Math.round(med) + ' ms'],
    ['HTTP requests (page)', p.requests + (p.name === 'polling' || p.name === 'long-polling' ? ' <small>(' + p.empty + ' empty)</small>' : '')],
    ['server: requests / empty', s ? d('requests') + ' / ' + d('emptyResponses') : '–'],
    ['wire bytes ↑ page→server', s ? fmtBytes(up) : '–'],
    ['wire bytes ↓ server→page', s ? fmtBytes(down) : '–'],
    ['bytes per message', s && p.received ? fmtBytes(Math.round((up + down) / p.received)) : '–'],
  ];
  if (p.name === 'websocket') rows.splice(3, 0, ['pings answered (browser)', String(browserPongs)]);
  $('.stats', p.el).innerHTML = rows.map((r) => '<dt>' + r[0] + '</dt><dd data-k="' + r[0] + '">' + r[1] + '</dd>').join('');
}

// Timeline: messages on the top row, requests below (held ones as bars), pings as small ticks.
/** @param {Pane} p */
function drawTimeline(p) {
  const c = $('.timeline', p.el, HTMLCanvasElement);
  const w = c.clientWidth || 300;
  c.width = w;
  const h = c.height;
  const g = c.getContext('2d');
  if (!g) return;
  const now = Date.now();
  const x = (/** @type {number} */ t) => w - ((now - t) / WINDOW_MS) * w;
  g.clearRect(0, 0, w, h);
  g.fillStyle = '#667';
  g.font = '10px system-ui, sans-serif';
  g.fillText('messages', 3, 11);
  g.fillText('requests', 3, 39);
  g.strokeStyle = '#e3e7ec';
  g.beginPath();
  g.moveTo(0, 28.5);
  g.lineTo(w, 28.5);
  g.stroke();
  g.fillStyle = '#1f9d55';
  for (const t of p.msgs) if (now - t < WINDOW_MS) g.fillRect(x(t) - 1, 14, 3, 12);
  for (const r of p.reqs) {
    const end = r.end === null ? now : r.end;
    if (now - end > WINDOW_MS) continue;
    const x0 = Math.max(0, x(r.start));
    const x1 = x(end);
    if (x1 - x0 > 4 || r.end === null) {
      g.fillStyle = '#9ec5ee';
      g.fillRect(x0, 44, Math.max(2, x1 - x0), 8);
    }
    g.fillStyle = r.empty ? '#b8c0cc' : r.end === null ? '#9ec5ee' : '#2b6cb0';
    g.fillRect(x1 - 1, 42, 3, 12);
  }
  g.fillStyle = '#e29a2d';
  for (const t of p.pings) if (now - t < WINDOW_MS) g.fillRect(x(t) - 1, 56, 2, 6);
  // Forget what scrolled out.
  p.msgs = p.msgs.filter((t) => now - t < WINDOW_MS);
  p.reqs = p.reqs.filter((r) => r.end === null || now - r.end < WINDOW_MS);
  p.pings = p.pings.filter((t) => now - t < WINDOW_MS);
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
/**
 * POSTs a JSON body to the demo server.
 * @param {string} path
 * @param {unknown} body
 */
const postJson = (path, body) => fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

// ---------------------------------------------------------------- ajax polling and long polling
// Both send the same GET /poll with a cursor; they differ only in what the server does when
// nothing is new (answer 204 at once, or hold the request) and in when the next poll goes out.

/**
 * One poll: records the request on the pane's timeline, hands messages over; returns the next cursor and whether it failed.
 * @param {Pane} p
 * @param {string} base
 * @param {number | null} cursor
 * @param {(r: Request) => string} emptyNote
 * @returns {Promise<{ cursor: number | null, failed: boolean }>}
 */
async function pollOnce(p, base, cursor, emptyNote) {
  /** @type {Request} */
  const r = { start: Date.now(), end: null, empty: false };
  p.reqs.push(r);
  p.requests++;
  let failed = false;
  try {
    const url = base + '/poll?client=' + clientId + (cursor === null ? '' : '&cursor=' + cursor);
    const res = await fetch(url, { signal: linkAbort.signal });
    if (res.status === 204) {
      r.empty = true;
      p.empty++;
      const next = res.headers.get('X-Next-Cursor');
      if (next !== null) cursor = Number(next);
      addLog(p, emptyNote(r), 'empty');
    } else if (res.ok) {
      const body = /** @type {{ messages: { data: string }[], next: number }} */ (await res.json());
      if (cursor !== null) for (const m of body.messages) onMessage(p, m.data);
      cursor = body.next;
    } else {
      addLog(p, 'HTTP ' + res.status, 'empty');
      failed = true;
    }
  } catch (e) {
    // A poll cut by a switch of link is not a failure of the transport.
    const err = /** @type {Error} */ (e);
    if (err.name !== 'AbortError') addLog(p, 'request failed: ' + err.message, 'empty');
    failed = true;
  }
  r.end = Date.now();
  return { cursor, failed };
}

let pollInterval = 1000;
/** @param {string} base @param {number} gen */
async function runPolling(base, gen) {
  /** @type {number | null} */
  let cursor = null;
  while (gen === linkGen) {
    ({ cursor } = await pollOnce(panes.polling, base, cursor, () => '204 No Content (empty poll)'));
    await sleep(pollInterval);
  }
}

// ---------------------------------------------------------------- long polling
/** @param {string} base @param {number} gen */
async function runLongPolling(base, gen) {
  /** @type {number | null} */
  let cursor = null;
  while (gen === linkGen) {
    const step = await pollOnce(panes['long-polling'], base, cursor, (r) => '204 after ' + ((Date.now() - r.start) / 1000).toFixed(1) + ' s held (timeout)');
    cursor = step.cursor;
    if (step.failed) await sleep(1000);
  }
}

// ---------------------------------------------------------------- SSE
/** @type {EventSource | null} */
let sseSource = null;
/** @param {string} base */
function runSse(base) {
  const p = panes.sse;
  /** @type {Request | null} */
  let current = null;
  const es = new EventSource(base + '/events?client=' + clientId);
  if (!config.h2) p.protocol = 'http/1.1, its own connection';
  sseSource = es;
  es.onopen = () => {
    p.requests++;
    if (current) current.end = Date.now();
    current = { start: Date.now(), end: null, empty: false };
    p.reqs.push(current);
    addLog(p, 'stream open (200, text/event-stream)', 'empty');
  };
  es.onmessage = (e) => onMessage(p, e.data);
  es.onerror = () => {
    if (current) current.end = Date.now();
    current = null;
    addLog(p, 'stream lost; EventSource reconnects with Last-Event-ID', 'empty');
  };
}

// ---------------------------------------------------------------- WebSocket pane
/** @type {WebSocket | null} */
let ws = null;
/** @type {Request | null} */
let wsReq = null;
let browserPings = 0;
let browserPongs = 0;
function connectWebSocket() {
  const p = panes.websocket;
  if (ws && ws.readyState <= 1) return;
  // Over h2 the pane's WebSocket goes to the page's own origin, where the browser opens it as a stream
  // of the page's connection (RFC 8441) since the server's SETTINGS allow extended CONNECT.
  ws = new WebSocket(
    config.paths
      ? 'wss://' + location.host + config.paths.websocket + '?client=' + clientId
      : 'ws://' + location.hostname + ':' + currentLink.ports.websocket + '/?client=' + clientId,
  );
  const mine = ws;
  p.requests++;
  ws.onopen = () => {
    wsReq = { start: Date.now(), end: null, empty: false };
    p.reqs.push(wsReq);
    addLog(p, config.h2 ? 'open (200 to an extended CONNECT, or 101 on HTTP/1.1)' : 'open (101 Switching Protocols)', 'empty');
  };
  ws.onmessage = (e) => onMessage(p, e.data);
  ws.onclose = (e) => {
    // The socket of a link switched away from closes after the new one opened: the new one's state stays.
    if (mine === ws) {
      if (wsReq) wsReq.end = Date.now();
      wsReq = null;
    }
    addLog(p, 'closed: code ' + e.code + (e.reason ? ' "' + e.reason + '"' : ''), 'empty');
  };
}

// ---------------------------------------------------------------- the link selector
// Every pane reaches its server through the chosen link: loopback, or a relay that delays each
// direction by RTT/2 and paces it at the link's bandwidth (the lab's link emulator, path/link-relay.ts).
/** @type {Link} */
let currentLink;
let linkGen = 0; // bumped on a switch: the polling loops of the link before stop
let linkAbort = new AbortController(); // aborts the requests of the link before
const base = (/** @type {number} */ port) => 'http://' + location.hostname + ':' + port;

/** Where a pane's requests go: its own server's port, or over h2 the page's origin at the pane's path. @param {PaneName} name */
function paneBase(name) {
  return config.paths ? location.origin + config.paths[name] : base(currentLink.ports[name]);
}

function startTransports() {
  runPolling(paneBase('polling'), linkGen);
  runLongPolling(paneBase('long-polling'), linkGen);
  runSse(paneBase('sse'));
  connectWebSocket();
}

// The browser's own word on what each request travelled on: a resource entry's nextHopProtocol
// (an event stream has its entry only once it ends, so the server reports that one).
const seenProtocol = new PerformanceObserver((list) => {
  for (const e of /** @type {PerformanceResourceTiming[]} */ (list.getEntries())) {
    for (const name of /** @type {const} */ (['polling', 'long-polling'])) {
      if (e.name.startsWith(paneBase(name) + '/poll') && !config.h2) panes[name].protocol = e.nextHopProtocol + ', its own connection';
    }
  }
  // The page keeps none: a buffer that fills up would stop recording.
  performance.clearResourceTimings();
});

/** @param {string} name */
function switchLink(name) {
  const link = config.links.find((l) => l.name === name);
  if (!link || link === currentLink) return;
  currentLink = link;
  linkGen++;
  linkAbort.abort();
  linkAbort = new AbortController();
  if (sseSource) sseSource.close();
  if (ws && ws.readyState <= 1) ws.close(1000, 'switching link');
  ws = null;
  resetCounters();
  for (const name of NAMES) addLog(panes[name], 'link: ' + link.name + ' (' + link.model + ')', 'empty');
  $('#link-model').textContent = link.model;
  document.body.dataset.link = link.name;
  startTransports();
}

// ---------------------------------------------------------------- server counters
async function refreshStats() {
  try {
    const s = /** @type {Record<PaneName, Counters>} */ (await (await fetch('/stats')).json());
    for (const name of NAMES) {
      panes[name].server = s[name];
      if (!panes[name].base) panes[name].base = { ...s[name] };
    }
  } catch (_e) {
    // the demo server went away; keep the last figures
  }
}

function resetCounters() {
  for (const name of NAMES) {
    const p = panes[name];
    p.received = 0;
    p.latencies = [];
    p.requests = 0;
    p.empty = 0;
    p.base = p.server ? { ...p.server } : null;
  }
}

// ---------------------------------------------------------------- publishing
let published = 0;
/** @param {string} text */
async function publish(text) {
  const res = await postJson('/publish', { text });
  const body = await res.json();
  if (!res.ok) {
    $('#publish-status').textContent = 'refused: ' + body.error;
    return;
  }
  published++;
  $('#publish-status').textContent = 'published #' + body.seq + ' (' + published + ' from this page)';
}
/** @type {ReturnType<typeof setInterval> | null} */
let rateTimer = null;
/** @param {number} perSecond */
function setRate(perSecond) {
  if (rateTimer) clearInterval(rateTimer);
  rateTimer = null;
  if (perSecond > 0) {
    let n = 0;
    rateTimer = setInterval(() => publish((inputOf('#publish-text').value || 'tick') + ' ' + ++n), 1000 / perSecond);
  }
}

// ---------------------------------------------------------------- handshake panel
/** @param {Uint8Array} bytes */
function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}
/** @param {Handshake} hs */
async function showHandshake(hs) {
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
  panes.websocket.protocol =
    hs.via === 'h2 extended CONNECT' ? 'h2 extended CONNECT (RFC 8441), connection #' + hs.connection : 'HTTP/1.1 Upgrade, its own connection';
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

// ---------------------------------------------------------------- frame inspector
const CONTROL = new Set(['ping', 'pong']);
/** @param {string} label @param {string | number} value @param {string} [cls] */
function field(label, value, cls) {
  return '<span class="field' + (cls ? ' ' + cls : '') + '"><b>' + label + '</b>' + value + '</span>';
}
/** @type {Record<string, string>} */
const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
/** @param {unknown} s */
function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ENTITIES[c] ?? c);
}
/** @param {string | null} h */
function spaced(h) {
  return h ? h.replace(/(..)(?=.)/g, '$1 ') : '';
}
/**
 * The frame's element, its fields as data attributes (what the browser tests read).
 * @param {Frame} f
 */
function frameElement(f) {
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
 * Shows one frame the inspector saw, newest first, the last 80 kept.
 * @param {Frame} f
 */
function renderFrame(f) {
  if (CONTROL.has(f.opcodeName)) {
    panes.websocket.pings.push(Date.now());
    if (!inputOf('#show-control').checked) return;
  }
  const div = frameElement(f);
  div.innerHTML = frameTitle(f) + '<div class="bytes">' + headerFields(f) + payloadFields(f) + '</div>' + frameText(f);
  const list = $('#frames');
  list.prepend(div);
  while (list.children.length > 80) list.lastElementChild?.remove();
}

/** The page's origin as a WebSocket URL: wss:// when the page came over TLS. */
function wsOrigin() {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host;
}

// ---------------------------------------------------------------- heartbeat panel
/** @param {string} id @param {string} text @param {string} [cls] */
function logTo(id, text, cls) {
  const ol = $('#' + id);
  const li = document.createElement('li');
  li.textContent = new Date().toLocaleTimeString() + '  ' + text;
  if (cls) li.className = cls;
  ol.prepend(li);
  while (ol.children.length > 60) ol.lastElementChild?.remove();
}
/**
 * A heartbeat report of the server (`side: 'server'`) or of the helper peer.
 * @param {{ side: string, type: string, missed?: number, rttMs?: number, code?: number, answered?: boolean, answering?: boolean, how?: string, reason?: string, message?: string }} e
 */
function onPeerEvent(e) {
  const state = $('#peer-state');
  if (e.side === 'server') {
    if (e.type === 'open') {
      state.textContent = 'connected';
      state.className = 'online';
      $('#peer-missed').textContent = '0';
      logTo('peer-log', 'server: helper connected', 'good');
    } else if (e.type === 'ping') {
      $('#peer-missed').textContent = String(e.missed);
      logTo('peer-log', 'server: ping sent (' + e.missed + ' outstanding)', (e.missed ?? 0) > 1 ? 'warn' : '');
    } else if (e.type === 'pong') {
      $('#peer-missed').textContent = '0';
      logTo('peer-log', 'server: pong received after ' + e.rttMs + ' ms → counter reset', 'good');
    } else if (e.type === 'timeout') {
      logTo('peer-log', 'server: ' + e.missed + ' pings unanswered → dropping the connection', 'bad');
    } else if (e.type === 'close') {
      state.textContent = 'dropped by the server';
      state.className = 'offline';
      logTo('peer-log', 'server: connection closed (' + e.code + (e.code === 1006 ? ', no closing handshake: the socket was destroyed' : '') + ')', 'bad');
    }
  } else if (e.type === 'ping') {
    logTo('peer-log', 'helper: ping received → ' + (e.answered ? 'pong sent' : 'ignored, no pong'), e.answered ? '' : 'warn');
  } else if (e.type === 'mode') {
    logTo('peer-log', 'helper: ' + (e.answering ? 'answers pings again' : 'stops answering pings'), 'warn');
  } else if (e.type === 'closed') {
    logTo('peer-log', 'helper: ' + e.how, 'bad');
  } else if (e.type === 'refused' || e.type === 'error') {
    logTo('peer-log', 'helper: ' + (e.reason || e.message), 'bad');
  }
}
async function restartPeer() {
  inputOf('#peer-answer').checked = true;
  $('#peer-state').textContent = 'starting';
  $('#peer-state').className = '';
  await fetch('/peer/start', { method: 'POST' });
}

// Application heartbeat, the client's side: the heartbeatLoss / MAXLOSSTIMES loop.
/** @type {WebSocket | null} */
let appWs = null;
/** @type {ReturnType<typeof setInterval> | null} */
let appTimer = null;
let heartbeatLoss = 0;
/** @param {string} s */
function setAppState(s) {
  const b = $('#app-state');
  b.textContent = s;
  b.className = s === 'online' ? 'online' : s === 'offline' ? 'offline' : '';
}
function startAppHeartbeat() {
  const MAXLOSSTIMES = config.appHeartbeat.maxLoss;
  if (appTimer) clearInterval(appTimer);
  if (appWs) appWs.close();
  heartbeatLoss = 0;
  $('#app-loss').textContent = '0';
  setAppState('connecting');
  const sock = new WebSocket(wsOrigin() + '/app-heartbeat?client=' + clientId);
  appWs = sock;
  sock.onopen = () => {
    setAppState('online');
    logTo('app-log', 'connected', 'good');
  };
  sock.onmessage = (e) => {
    if (e.data !== 'heartbeat-ack') return;
    heartbeatLoss = 0;
    $('#app-loss').textContent = '0';
    logTo('app-log', 'heartbeat-ack received → heartbeatLoss = 0', 'good');
  };
  sock.onclose = () => {
    if (appWs === sock && $('#app-state').textContent !== 'offline') setAppState('closed');
  };
  appTimer = setInterval(() => {
    if (sock.readyState !== 1) return;
    if (heartbeatLoss < MAXLOSSTIMES) {
      sock.send('heartbeat');
      heartbeatLoss += 1;
      $('#app-loss').textContent = String(heartbeatLoss);
      logTo('app-log', 'heartbeat sent → heartbeatLoss = ' + heartbeatLoss, heartbeatLoss > 1 ? 'warn' : '');
    } else {
      if (appTimer) clearInterval(appTimer);
      appTimer = null;
      setAppState('offline');
      logTo('app-log', heartbeatLoss + ' heartbeats without an answer → offline; the page closes the socket', 'bad');
      sock.close(4000, 'heartbeat lost');
    }
  }, config.appHeartbeat.intervalMs);
}

// ---------------------------------------------------------------- security panel
/** @type {((e: SecurityEvent) => void)[]} */
const securityWaiters = [];
/** @param {SecurityEvent} e */
function onSecurityEvent(e) {
  const w = securityWaiters.shift();
  if (w) w(e);
}
/** @param {number} ms @returns {Promise<SecurityEvent | null>} */
function nextSecurityEvent(ms) {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), ms);
    securityWaiters.push((e) => {
      clearTimeout(t);
      resolve(e);
    });
  });
}
async function originTest() {
  const out = $('#origin-result');
  out.textContent = 'trying…';
  const seen = nextSecurityEvent(3000);
  const r = await (await fetch('/origin-test', { method: 'POST' })).json();
  const ev = await seen;
  out.dataset.status = String(r.status);
  out.textContent =
    (r.refused ? 'Refused: HTTP ' + r.status + (ev ? ' (' + ev.reason + ')' : '') : 'Accepted (101): the check is off!') +
    '\n\nThe request the server saw:\n' +
    (ev ? ev.request.join('\n') : '(not reported)') +
    "\n\nThis page's own connection sent Origin: " +
    location.origin +
    ' and got 101.';
}
/** @param {string} url @returns {Promise<{ opened: boolean, code: number, message: string | null }>} */
function openOnce(url) {
  return new Promise((resolve) => {
    const s = new WebSocket(url);
    /** @type {string | null} */
    let first = null;
    s.onmessage = (e) => {
      first = e.data;
      s.close(1000);
    };
    s.onclose = (e) => resolve({ opened: first !== null, code: e.code, message: first });
  });
}
async function tokenTest() {
  const out = $('#token-result');
  out.textContent = 'fetching a token…';
  const { token } = await (await fetch('/token')).json();
  const url = wsOrigin() + '/secure?token=' + token;
  let text = 'GET /token → ' + token + '\n\n1st connection with ?token=' + token.slice(0, 6) + '…\n';
  const a = await openOnce(url);
  text += a.opened ? '  101, open. Server says: "' + a.message + '"\n' : '  failed (code ' + a.code + ')\n';
  out.textContent = text;
  const seen = nextSecurityEvent(3000);
  text += '\n2nd connection with the same token\n';
  const b = await openOnce(url);
  const ev = await seen;
  text += b.opened ? '  open — the token was not spent!\n' : '  the browser reports: failed (close code ' + b.code + ', no HTTP status for scripts)\n';
  if (ev) text += '  the server answered: HTTP ' + ev.status + ' ' + (ev.status === 401 ? 'Unauthorized' : '') + ' — ' + ev.reason + '\n';
  out.dataset.first = a.opened ? '101' : 'refused';
  out.dataset.second = ev ? String(ev.status) : b.opened ? '101' : 'unknown';
  out.textContent = text;
}

// ---------------------------------------------------------------- start
/** Fills the link menu and the settings the page's text quotes from the server's config. */
function showConfig() {
  const loopback = config.links[0];
  if (!loopback) throw new Error('the server offers no link');
  currentLink = loopback;
  $('#link').innerHTML = config.links.map((l) => '<option value="' + esc(l.name) + '">' + esc(l.name) + '</option>').join('');
  $('#link').onchange = (e) => switchLink(controlOf(e).value);
  $('#link-model').textContent = currentLink.model;
  document.body.dataset.link = currentLink.name;
  /** @type {[string, string][]} */
  const quoted = [
    ['.hb-interval', config.heartbeat.intervalMs / 1000 + ' s'],
    ['.hb-max', String(config.heartbeat.maxMissedPongs)],
    ['.app-interval', config.appHeartbeat.intervalMs / 1000 + ' s'],
    ['.app-max', String(config.appHeartbeat.maxLoss)],
    ['.lp-timeout', config.longPollTimeoutMs / 1000 + ' s'],
  ];
  for (const [sel, text] of quoted)
    document.querySelectorAll(sel).forEach((e) => {
      e.textContent = text;
    });
}

/** Connects the page's buttons and inputs to what they do. */
function wireControls() {
  $('#publish-btn').onclick = () => publish(inputOf('#publish-text').value);
  $('#publish-text').onkeydown = (e) => {
    if (e.key === 'Enter') publish(inputOf('#publish-text').value);
  };
  $('#rate').onchange = (e) => setRate(Number(controlOf(e).value));
  $('#reset-btn').onclick = resetCounters;
  $('#poll-interval').oninput = (e) => {
    pollInterval = Number(controlOf(e).value);
    $('#poll-interval-label').textContent = pollInterval + ' ms';
  };
  $('#ws-send').onclick = () => {
    if (ws && ws.readyState === 1) ws.send(inputOf('#ws-text').value);
  };
  $('#ws-fragment').onclick = () => fetch('/fragment?client=' + clientId, { method: 'POST' });
  $('#ws-close').onclick = () => ws?.close(1000, 'closed from the page');
  $('#ws-reconnect').onclick = connectWebSocket;
  $('#peer-answer').onchange = () => postJson('/peer/answer', { answer: inputOf('#peer-answer').checked });
  $('#peer-restart').onclick = restartPeer;
  $('#app-silent').onchange = () => postJson('/app-heartbeat/silent?client=' + clientId, { silent: inputOf('#app-silent').checked });
  $('#app-reconnect').onclick = startAppHeartbeat;
  $('#origin-test').onclick = originTest;
  $('#token-test').onclick = tokenTest;
}

/** Opens the inspector's event stream (frames, handshakes, protocols, heartbeats, security and peer events); resolves once it is open. */
async function openInspector() {
  const inspector = new EventSource('/inspect?client=' + clientId);
  inspector.addEventListener('frame', (e) => renderFrame(JSON.parse(e.data)));
  inspector.addEventListener('handshake', (e) => showHandshake(JSON.parse(e.data)));
  inspector.addEventListener('protocol', (e) => {
    const r = /** @type {{ pane: PaneName, protocol: string, connection: number }} */ (JSON.parse(e.data));
    if (NAMES.includes(r.pane)) panes[r.pane].protocol = r.protocol + (r.connection ? ', connection #' + r.connection : '');
  });
  inspector.addEventListener('heartbeat', (e) => {
    const h = JSON.parse(e.data);
    if (h.type === 'ping') browserPings++;
    if (h.type === 'pong') browserPongs++;
    $('#browser-pings').textContent = String(browserPings);
    $('#browser-pongs').textContent = String(browserPongs);
  });
  inspector.addEventListener('security', (e) => onSecurityEvent(JSON.parse(e.data)));
  inspector.addEventListener('peer', (e) => onPeerEvent(JSON.parse(e.data)));
  await new Promise((r) => inspector.addEventListener('open', r, { once: true }));
}

async function main() {
  config = await (await fetch('/config')).json();
  // CORS allows exactly the page's origin; other spellings of this host go to it.
  if (location.origin !== config.pageOrigin) {
    location.replace(config.pageOrigin + '/');
    return;
  }
  showConfig();
  wireControls();
  // The inspector channel first, so the WebSocket's first frames are seen.
  await openInspector();

  const nav = /** @type {PerformanceNavigationTiming | undefined} */ (performance.getEntriesByType('navigation')[0]);
  $('#page-protocol').textContent = 'page over ' + (nav ? nav.nextHopProtocol : '?');
  document.body.dataset.protocol = nav ? nav.nextHopProtocol : '';
  seenProtocol.observe({ type: 'resource' });
  await refreshStats();
  startTransports();
  startAppHeartbeat();
  restartPeer();
  setInterval(refreshStats, 1000);
  setInterval(() => {
    for (const name of NAMES) {
      renderStats(panes[name]);
      drawTimeline(panes[name]);
    }
  }, 250);
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  document.body.insertAdjacentHTML('afterbegin', '<p style="color:#b42318;padding:8px">The demo could not start: ' + esc(e.message) + '</p>');
});
