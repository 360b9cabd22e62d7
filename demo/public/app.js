// @ts-check
// transport-lab teaching demo — plain browser JavaScript, no libraries, served as it is written
// (ES modules). Type-checked by `tsc` from its JSDoc: the shapes the server sends are named in
// types.js, and a frame's is the server's own `frameForPage` return type. This module holds the
// page's state, its four transport panes, the link selector and the start; the panels, the frame
// inspector's rendering and the handshake panel are modules of their own.
import { $, controlOf, esc, inputOf, postJson, sleep } from './dom.js';
import { CONTROL, frameElement, frameHtml } from './frames.js';
import { handshakeProtocol, showHandshake } from './handshake.js';
import { addLog, drawTimeline, onMessage, renderStats } from './pane-view.js';
import { onPeerEvent, onSecurityEvent, originTest, restartPeer, startAppHeartbeat, tokenTest } from './panels.js';

/** @typedef {import('./types.js').PaneName} PaneName */
/** @typedef {import('./types.js').Pane} Pane */
/** @typedef {import('./types.js').Request} Request */
/** @typedef {import('./types.js').Counters} Counters */
/** @typedef {import('./types.js').Link} Link */
/** @typedef {import('./types.js').Config} Config */
/** @typedef {import('./types.js').Frame} Frame */

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
  div.innerHTML = frameHtml(f);
  const list = $('#frames');
  list.prepend(div);
  while (list.children.length > 80) list.lastElementChild?.remove();
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
  $('#app-reconnect').onclick = () => startAppHeartbeat(config.appHeartbeat, clientId);
  $('#origin-test').onclick = originTest;
  $('#token-test').onclick = tokenTest;
}

/** Opens the inspector's event stream (frames, handshakes, protocols, heartbeats, security and peer events); resolves once it is open. */
async function openInspector() {
  const inspector = new EventSource('/inspect?client=' + clientId);
  inspector.addEventListener('frame', (e) => renderFrame(JSON.parse(e.data)));
  inspector.addEventListener('handshake', (e) => {
    const hs = JSON.parse(e.data);
    panes.websocket.protocol = handshakeProtocol(hs);
    showHandshake(hs);
  });
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
  startAppHeartbeat(config.appHeartbeat, clientId);
  restartPeer();
  setInterval(refreshStats, 1000);
  setInterval(() => {
    for (const name of NAMES) {
      renderStats(panes[name], browserPongs);
      drawTimeline(panes[name]);
    }
  }, 250);
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  document.body.insertAdjacentHTML('afterbegin', '<p style="color:#b42318;padding:8px">The demo could not start: ' + esc(e.message) + '</p>');
});
