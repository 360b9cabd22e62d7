/**
 * The heartbeat panel's helper peer: a WebSocket client in its own process that answers the
 * server's pings with pongs — until told (a line `ignore` on stdin) to stop, like a peer whose
 * program hung while its TCP connection stayed up. A line `answer` turns pongs back on.
 *
 * Browsers answer pings inside the network stack and give pages no way to stop, so this peer is
 * built on the engine's sans-I/O connection (`ConnectionProtocol` with automatic pongs off) and
 * the pure handshake functions, instead of its socket adapter, which would always answer. It
 * reports on stdout, one JSON object a line.
 *
 * Usage: node --import tsx demo/peer.ts ws://127.0.0.1:8090/peer [origin]
 * (wss:// when the demo runs over HTTP/2: the certificate to trust comes in DEMO_PEER_CA).
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createInterface } from 'node:readline';
import { checkUpgradeResponse, ConnectionProtocol, makeKey, parseResponseHead, type ProtocolOutput, upgradeRequestLines } from '../protocol/index.ts';

const report = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

const target = new URL(process.argv[2] ?? 'ws://127.0.0.1:8090/peer');
/** Optional Origin header (endpoints such as /secure only accept the page's origin). */
const origin = process.argv[3];
let answering = true;
// Over TLS the peer asks for HTTP/1.1 by ALPN: its opening handshake is an HTTP/1.1 upgrade.
const socket =
  target.protocol === 'wss:'
    ? tlsConnect({ host: target.hostname, port: Number(target.port || 443), ca: process.env['DEMO_PEER_CA'], ALPNProtocols: ['http/1.1'] })
    : netConnect({ host: target.hostname, port: Number(target.port || 80) });
const key = makeKey();
const requestLines = upgradeRequestLines(target, key, origin ? { origin } : {});
socket.write(`${requestLines.join('\r\n')}\r\n\r\n`);

// The engine's sans-I/O connection with automatic pongs off: this peer decides per ping.
const output: ProtocolOutput = {
  write: (bytes) => socket.write(bytes),
  writeParts: (header, payload) => {
    socket.write(header);
    return socket.write(payload);
  },
  writeClose: (bytes) => void socket.write(bytes),
  end: () => void socket.end(),
  cork: () => socket.cork(),
  uncork: () => socket.uncork(),
};
const core: ConnectionProtocol = new ConnectionProtocol(
  { role: 'client', autoPong: false },
  {
    onMessage: (data) => report({ type: 'message', text: data.toString() }),
    onPing: (data) => {
      // RFC 6455 §5.5.2: a pong "in response" is what a live peer sends; a hung one sends nothing.
      report({ type: 'ping', answered: answering });
      if (answering) core.pong(data);
    },
    onPong: () => {},
    onClose: (code, reason) => report({ type: 'close-frame', code, reason }),
    onError: (err) => report({ type: 'error', message: err.message }),
  },
  output,
);

let head = Buffer.alloc(0);
let open = false;
socket.on('data', (chunk: Buffer) => {
  if (open) {
    core.receiveData(chunk);
    return;
  }
  head = Buffer.concat([head, chunk]);
  let response;
  try {
    response = parseResponseHead(head);
  } catch (e) {
    report({ type: 'refused', status: 0, reason: (e as Error).message });
    socket.destroy();
    return;
  }
  if (response === null) return;
  const check = checkUpgradeResponse(response.status, response.headers, key);
  if (!check.ok) {
    report({ type: 'refused', status: response.status, reason: check.reason });
    socket.destroy();
    return;
  }
  open = true;
  report({ type: 'open', pid: process.pid });
  // Frames that came in the same read as the 101 (a greeting) are parsed right away.
  const rest = head.subarray(response.end);
  if (rest.length > 0) core.receiveData(rest);
});
socket.on('end', () => core.receiveEof());
socket.on('error', (e) => report({ type: 'error', message: e.message }));
socket.on('close', () => {
  report({ type: 'closed', how: core.closeReceived ? 'after a close frame' : 'TCP closed without a close frame (1006)' });
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
