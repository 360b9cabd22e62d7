// @ts-check
// The shapes the demo page's modules share: what the server sends, and a pane's state.

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

export {};
