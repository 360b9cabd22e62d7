/**
 * The peer rows (websocketd, uws, socket.io-ws, socket.io-polling): each launcher starts on
 * 127.0.0.1, serves an echo and (where it can) a publish round trip, reports its version and
 * stops; a scenario a peer cannot serve gives n/a with its reason. websocketd and uWebSockets.js
 * are installed by their ensure scripts when missing, as a bench run installs them; a failed
 * install fails the test with the script's reason.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { transport, transportNames, expandTransportGroups, loadClientFor } from '../transports/index.ts';
import { ensurePeer } from '../transports/peers.ts';
import { whyNot } from '../scenarios/contract.ts';
import { scenarioByName } from '../scenarios/index.ts';
import { runBench } from '../runner/bench.ts';
import { ProcessTreeSampler } from '../metrics/process.ts';
import { startServer, startCollector, post } from './helpers.ts';
import { waitFor } from './helpers/wait.ts';

const PEER_NAMES = ['uws', 'websocketd', 'socket.io-ws', 'socket.io-polling'];

/**
 * Makes a peer runnable through its ensure script (installing it when missing); throws with the
 * script's reason. The one exception is a binary built for a newer glibc than this system's
 * (uWebSockets.js for Node 22 and 24 on Debian 12): nothing can install that, so the test is
 * skipped with the reason the bench gives for the row.
 */
function ready(t: TestContext, name: string): boolean {
  const d = transport(name);
  ensurePeer(d);
  try {
    d.peer!.version();
  } catch (e) {
    if (!/needs glibc/.test((e as Error).message)) throw e;
    t.skip(`${name} cannot load here: ${(e as Error).message}`);
    return false;
  }
  return true;
}

test('peers run only by name or as the group "peers"; the default run keeps its five rows', () => {
  assert.deepEqual(transportNames(), ['polling', 'long-polling', 'sse', 'websocket', 'ws']);
  assert.deepEqual(expandTransportGroups(['ws', 'peers', 'uws']), ['ws', ...PEER_NAMES]);
  for (const name of PEER_NAMES) assert.ok(transport(name).peer && transport(name).byNameOnly, name);
  // socket.io speaks its own protocol: no --ws-client choice replaces its client.
  assert.equal(loadClientFor(transport('socket.io-ws'), 'ws'), transport('socket.io-ws').client);
  assert.notEqual(loadClientFor(transport('uws'), 'engine'), transport('uws').client);
});

for (const name of PEER_NAMES) {
  test(`${name}: the launcher starts, echoes, ${transport(name).peer?.cannot?.publish ? 'cannot publish (n/a)' : 'publishes'}, reports its version and stops`, async (t) => {
    if (!ready(t, name)) return;
    const d = transport(name);
    const version = d.peer!.version();
    assert.match(version, /\d+\.\d+/, `${name}'s version names a number: ${version}`);
    const { server, baseUrl } = await startServer(t, name);
    const c = await startCollector(t, name, baseUrl, 'peer-a');
    await c.client.send('echo-1');
    await waitFor(() => c.received.includes('echo-1'), `${name} echo`);
    if (d.peer?.cannot?.publish) {
      assert.ok(whyNot(scenarioByName('push')!, name, {}), 'push is n/a for a row that cannot publish');
    } else {
      const r = await post(baseUrl, '/publish', 'to-all');
      assert.equal(r.status, 202);
      assert.equal(JSON.parse(r.text).subscribers, 1);
      await waitFor(() => c.received.includes('to-all'), `${name} publish`);
    }
    await waitFor(() => server.counters().bytesWritten > 0, `${name} counted bytes written at its sockets`);
    const pids = server.processes?.() ?? [];
    if (server.processes) {
      // A program of its own: its memory (websocketd and the connection's cat) is read from /proc.
      assert.ok(pids.length > 0, `${name} names its processes`);
      assert.ok(new ProcessTreeSampler(() => pids).memoryBytes() > 0, `${name}'s processes have memory`);
    }
    await c.client.stop();
    await server.close();
    for (const pid of pids) await waitFor(() => !existsSync(`/proc/${pid}`), `${name} process ${pid} gone after close`);
  });
}

test('a scenario a peer cannot serve is an n/a row with the reason, run through the bench runner', async () => {
  ensurePeer(transport('websocketd'));
  const push = scenarioByName('push')!;
  const lines: string[] = [];
  const { results } = await runBench({
    scenarios: [{ scenario: push, params: {} }],
    transports: ['websocketd'],
    command: 'test',
    run: { wsClient: 'own' },
    log: (l) => lines.push(l),
  });
  const row = results.scenarios[0]!.results[0]!;
  assert.equal(row.state, 'n/a');
  assert.match(row.error ?? '', /no shared publisher/);
  assert.match(results.meta.peers?.['websocketd'] ?? '', /websocketd/, 'the version is in the results environment');
});

test('websocketd does not outlive the process that started it, even one killed with SIGKILL', async (t) => {
  ensurePeer(transport('websocketd'));
  const server = new URL('../servers/websocketd.ts', import.meta.url).href;
  const code = `import { createWebsocketdServer } from ${JSON.stringify(server)};
const s = createWebsocketdServer(); await s.listen(0, '127.0.0.1'); console.log(s.processes()[0]); setInterval(() => {}, 1000);`;
  const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => c.kill('SIGKILL'));
  const pid = await new Promise<number>((resolve, reject) => {
    c.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    c.once('exit', (code) => reject(new Error(`the starting process exited (${code}) before websocketd ran`)));
  });
  assert.ok(pid > 0 && existsSync(`/proc/${pid}`), `websocketd runs (pid ${pid})`);
  c.kill('SIGKILL');
  await waitFor(() => !existsSync(`/proc/${pid}`), 'websocketd gone after its starter was killed');
});
