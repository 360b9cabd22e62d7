/**
 * The heartbeat panel's helper peer: a WebSocket client in its own process that answers the
 * server's pings with pongs — until told (a line `ignore` on stdin) to stop, like a peer whose
 * program hung while its TCP connection stayed up. A line `answer` turns pongs back on.
 *
 * Browsers answer pings inside the network stack and give pages no way to stop, so this peer is
 * built from the engine's sans-I/O parts (parser, encoder, handshake check) instead of its
 * connection class, which would always answer. It reports on stdout, one JSON object a line.
 *
 * Usage: node --import tsx demo/peer.ts ws://127.0.0.1:8090/peer
 */
import { connect as netConnect } from 'node:net';
import { createInterface } from 'node:readline';
import { checkUpgradeResponse, encodeFrame, FrameParser, makeKey, Opcode, type HeaderMap } from '../protocol/index.ts';

const report = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

const target = new URL(process.argv[2] ?? 'ws://127.0.0.1:8090/peer');
let answering = true;
const socket = netConnect({ host: target.hostname, port: Number(target.port || 80) });
const key = makeKey();
socket.write(
  [`GET ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'),
);

let gotCloseFrame = false;
const parser = new FrameParser(
  { role: 'client' },
  {
    onMessage: (data) => report({ type: 'message', text: data.toString() }),
    onPing: (data) => {
      // RFC 6455 §5.5.2: a pong "in response" is what a live peer sends; a hung one sends nothing.
      report({ type: 'ping', answered: answering });
      if (answering) socket.write(encodeFrame(data, { opcode: Opcode.PONG, mask: true }));
    },
    onPong: () => {},
    onClose: (code, reason) => {
      gotCloseFrame = true;
      report({ type: 'close-frame', code, reason });
    },
    onError: (err) => report({ type: 'error', message: err.message }),
  },
);

let head = Buffer.alloc(0);
let open = false;
socket.on('data', (chunk: Buffer) => {
  if (open) {
    parser.push(chunk);
    return;
  }
  head = Buffer.concat([head, chunk]);
  const end = head.indexOf('\r\n\r\n');
  if (end < 0) return;
  const lines = head.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers: HeaderMap = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const check = checkUpgradeResponse(status, headers, key);
  if (!check.ok) {
    report({ type: 'refused', status, reason: check.reason });
    socket.destroy();
    return;
  }
  open = true;
  report({ type: 'open', pid: process.pid });
  const rest = head.subarray(end + 4);
  if (rest.length > 0) parser.push(rest);
});
socket.on('error', (e) => report({ type: 'error', message: e.message }));
socket.on('close', () => {
  report({ type: 'closed', how: gotCloseFrame ? 'after a close frame' : 'TCP closed without a close frame (1006)' });
  process.exit(0);
});

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'ignore' || cmd === 'answer') {
    answering = cmd === 'answer';
    report({ type: 'mode', answering });
  }
});
process.stdin.on('end', () => socket.destroy());
