// @ts-check
// A transport pane's figures: its log, its latencies, its counters and its timeline.
import { $, prependLine } from './dom.js';

/** @typedef {import('./types.js').Pane} Pane */
/** @typedef {import('./types.js').Stamped} Stamped */

/** How far back a pane's timeline reaches, ms. */
const WINDOW_MS = 30000;

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
export function addLog(p, text, cls) {
  prependLine($('.log', p.el), text, cls, 40);
}

// A message arrived in a pane: parse the server's stamp and record latency.
/** @param {Pane} p @param {string} data */
export function onMessage(p, data) {
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

/** @param {Pane} p @param {number} browserPongs pongs the browser answered on the WebSocket pane */
export function renderStats(p, browserPongs) {
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
export function drawTimeline(p) {
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
