// @ts-check
// The demo page's small helpers: elements, requests, escaping and the panels' logs.

/**
 * The element `sel` selects (of the class `kind`, HTMLElement by default). The page is static:
 * a missing element is a bug, which throws here rather than as a null later.
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} sel
 * @param {ParentNode} [root]
 * @param {{ new (): T }} [kind]
 * @returns {T}
 */
export function $(sel, root, kind) {
  const e = (root || document).querySelector(sel);
  if (!(e instanceof (kind || HTMLElement))) throw new Error('no element ' + sel);
  return /** @type {T} */ (e);
}
/** @param {string} sel */
export const inputOf = (sel) => $(sel, document, HTMLInputElement);
/** The form control an event came from. @param {Event} e */
export const controlOf = (e) => /** @type {HTMLInputElement | HTMLSelectElement} */ (e.target);

export const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
/**
 * POSTs a JSON body to the demo server.
 * @param {string} path
 * @param {unknown} body
 */
export const postJson = (path, body) => fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

/** The page's origin as a WebSocket URL: wss:// when the page came over TLS. */
export function wsOrigin() {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host;
}

/** @type {Record<string, string>} */
const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
/** @param {unknown} s */
export function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ENTITIES[c] ?? c);
}

/**
 * Adds a line, with its time, to the top of the list `ol`; the last `keep` are kept.
 * @param {HTMLElement} ol @param {string} text @param {string | undefined} cls @param {number} keep
 */
export function prependLine(ol, text, cls, keep) {
  const li = document.createElement('li');
  li.textContent = new Date().toLocaleTimeString() + '  ' + text;
  if (cls) li.className = cls;
  ol.prepend(li);
  while (ol.children.length > keep) ol.lastElementChild?.remove();
}

/**
 * Adds a line to the panel log list `id`; the last 60 are kept.
 * @param {string} id @param {string} text @param {string} [cls]
 */
export function logTo(id, text, cls) {
  prependLine($('#' + id), text, cls, 60);
}
