/**
 * Peer rows: the stacks people run, measured beside the lab's own — websocketd (Go,
 * gorilla/websocket), uWebSockets.js (C++), and socket.io on its WebSocket and on its
 * long-polling transport. They run only when named (`--transports uws`) or as the group
 * `--transports peers`; what they need is installed by the project's scripts on first use.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClientModule, PeerInfo, ServerLauncher, TransportDescriptor } from './descriptor.ts';
import { uwsInstall, websocketdPath } from '../servers/peer-install.ts';

const serverModule = (file: string, name: string): ServerLauncher => ({ kind: 'module', module: import.meta.resolve(`../servers/${file}`), export: name });
const clientModule = (file: string, name: string): ClientModule => ({ module: import.meta.resolve(`../clients/${file}`), export: name });

/** The group name that stands for every peer row in `--transports`. */
export const PEER_GROUP = 'peers';

/** A package's version from its package.json in the project's node_modules. */
function packageVersion(name: string): string {
  const file = fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url));
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

const socketIoVersion = (): string =>
  `socket.io ${packageVersion('socket.io')} (engine.io ${packageVersion('engine.io')}), socket.io-client ${packageVersion('socket.io-client')}`;

const NO_HEARTBEAT_OPTIONS = (what: string) => `its liveness check is its own (${what}), not the lab's ping interval and missed-pong count`;

/** dpkg-query's format for the version alone (a literal `${…}` of dpkg's, not a template). */
const DPKG_VERSION_FIELD = ['$', '{Version}'].join('');

const WEBSOCKETD: PeerInfo = {
  ensure: 'ensure-websocketd.sh',
  version() {
    const path = websocketdPath();
    // Debian's build prints "websocketd DEVBUILD (go… linux-amd64) --": the trailing dashes say nothing.
    const banner = execFileSync(path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .trim()
      .replace(/\s*--$/, '');
    let deb = '';
    try {
      deb = execFileSync('dpkg-query', ['-W', '--showformat', DPKG_VERSION_FIELD, 'websocketd'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      // Not a Debian package (WEBSOCKETD_PATH points elsewhere): the banner alone.
    }
    return `${deb ? `Debian websocketd ${deb}: ` : ''}${banner}, running /bin/cat per connection`;
  },
  cannot: {
    publish: 'websocketd runs one program per connection and has no shared publisher to push a message to every subscriber',
    'echo-off': 'its per-connection program (cat) echoes every line and websocketd counts no messages, so the upward path cannot be measured alone',
    heartbeat: 'websocketd sends no pings of its own, so a silent peer is never dropped',
    'lab-routes': 'it has no HTTP routes of the lab (/poll, /events)',
  },
};

const UWS: PeerInfo = {
  ensure: 'ensure-uws.sh',
  version() {
    const u = uwsInstall();
    return `npm ${u.name} ${u.version}: ${u.binary} sha256 ${u.sha256.slice(0, 16)}${u.sourceCommit ? `, built from uWebSockets.js commit ${u.sourceCommit.slice(0, 12)}` : ''}`;
  },
  cannot: {
    heartbeat: NO_HEARTBEAT_OPTIONS('idleTimeout with automatic pings, 4 s resolution'),
    'lab-routes': "it serves WebSocket, not the lab's polling routes",
  },
};

const SOCKET_IO: PeerInfo = {
  version: socketIoVersion,
  cannot: {
    heartbeat: NO_HEARTBEAT_OPTIONS('Engine.IO pingInterval and pingTimeout'),
    'lab-routes': "Engine.IO has its own polling protocol, not the lab's /poll route",
  },
  ownClientOnly: true,
};

/** The peer rows, in report order after the lab's own. */
export const PEERS: TransportDescriptor[] = [
  {
    name: 'uws',
    inWords: 'uWebSockets.js',
    traits: { delivery: 'frames', heartbeat: 'ping-pong', socketsPerClient: 1, upward: 'frame' },
    look: { color: '#D55E00', dash: [] },
    byNameOnly: true,
    peer: UWS,
    server: serverModule('uws.ts', 'createUwsServer'),
    client: clientModule('ws.ts', 'WsClient'),
  },
  {
    name: 'websocketd',
    inWords: 'websocketd (Go) running cat per connection',
    traits: { delivery: 'frames', heartbeat: 'none', socketsPerClient: 1, upward: 'frame' },
    look: { color: '#F0E442', dash: [6, 2] },
    byNameOnly: true,
    peer: WEBSOCKETD,
    server: serverModule('websocketd.ts', 'createWebsocketdServer'),
    client: clientModule('ws.ts', 'WsClient'),
  },
  {
    name: 'socket.io-ws',
    inWords: 'socket.io over WebSocket',
    traits: { delivery: 'frames', heartbeat: 'ping-pong', socketsPerClient: 1, upward: 'frame' },
    look: { color: '#882255', dash: [] },
    byNameOnly: true,
    peer: SOCKET_IO,
    server: serverModule('socket-io.ts', 'createSocketIoWsServer'),
    client: clientModule('socket-io.ts', 'SocketIoWsClient'),
  },
  {
    name: 'socket.io-polling',
    inWords: 'socket.io long polling (Engine.IO)',
    traits: { delivery: 'held-request', heartbeat: 'ping-pong', socketsPerClient: 2, upward: 'post' },
    look: { color: '#882255', dash: [4, 4] },
    byNameOnly: true,
    peer: SOCKET_IO,
    server: serverModule('socket-io.ts', 'createSocketIoPollingServer'),
    client: clientModule('socket-io.ts', 'SocketIoPollingClient'),
  },
];

/** Each ensure script's outcome in this process: null when it succeeded, else why not. */
const ensured = new Map<string, string | null>();

/**
 * Runs `scripts/<script>` (an ensure script: installs `what` when missing) once per process;
 * throws with the script's last line of complaint when it cannot.
 */
export function ensureScript(script: string, what: string): void {
  let failure = ensured.get(script);
  if (failure === undefined) {
    try {
      // Its progress (a 100 MB download, apt-get) goes to stderr as it happens; its errors are kept for the reason.
      execFileSync('sh', [fileURLToPath(new URL(`../scripts/${script}`, import.meta.url))], {
        stdio: ['ignore', 2, 'pipe'],
        timeout: 600_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      failure = null;
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      failure = `${what} is not available: scripts/${script} failed (${(err.stderr?.toString().trim().split('\n').pop() ?? err.message) || err.message})`;
    }
    ensured.set(script, failure);
  }
  if (failure) throw new Error(failure);
}

/** Installs what a peer row needs (its ensure script) once per process; throws with the script's reason when it cannot. */
export function ensurePeer(d: TransportDescriptor): void {
  const script = d.peer?.ensure;
  if (script) ensureScript(script, d.name);
}
