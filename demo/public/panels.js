// @ts-check
// The heartbeat panels (the server's pings to a helper peer, the page's application heartbeat)
// and the security panel (Origin check, one-time token).
import { $, inputOf, logTo, wsOrigin } from './dom.js';

/** @typedef {import('./types.js').SecurityEvent} SecurityEvent */

/**
 * A heartbeat report of the server (`side: 'server'`) or of the helper peer.
 * @param {{ side: string, type: string, missed?: number, rttMs?: number, code?: number, answered?: boolean, answering?: boolean, how?: string, reason?: string, message?: string }} e
 */
export function onPeerEvent(e) {
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
export async function restartPeer() {
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
/**
 * Opens the application-heartbeat WebSocket and runs the client's side of its loop.
 * @param {{ intervalMs: number, maxLoss: number }} settings
 * @param {string} clientId
 */
export function startAppHeartbeat(settings, clientId) {
  const MAXLOSSTIMES = settings.maxLoss;
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
  }, settings.intervalMs);
}

// The security panel: a forged Origin refused, a one-time token spent.
/** @type {((e: SecurityEvent) => void)[]} */
const securityWaiters = [];
/** @param {SecurityEvent} e */
export function onSecurityEvent(e) {
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
export async function originTest() {
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
export async function tokenTest() {
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
