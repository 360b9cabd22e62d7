/**
 * The failover findings from small synthetic results: which row recovers fastest with nothing
 * lost, what jitter buys against clients that come back at once (listen overflows, peak CPU,
 * recovery, averaged per policy), and what a rolling restart behind the Redis backplane costs
 * against one node killed and the single process's crash. Every number checked is worked out
 * here from the inputs, so a finding that stopped computing would fail.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScenarioResult, TransportResult } from '../../metrics/results.ts';
import { failoverFacet } from '../../scenarios/failover/facet.ts';
import type { FailoverExtra, FailoverRun } from '../../scenarios/failover/schema.ts';

interface RunSpec {
  mode: string;
  clients: number;
  lost?: number;
  p100Ms: number | null;
  p50Ms?: number;
  overflows?: number;
  cpu?: number;
  kept?: number;
  downAtS?: number;
  upAtS?: number;
  afterP99Ms?: number;
}

function run(o: RunSpec): FailoverRun {
  const published = 100;
  const lost = o.lost ?? 0;
  return {
    mode: o.mode,
    clients: o.clients,
    downMs: o.mode === 'crash' ? 1000 : 0,
    downAtS: o.downAtS ?? 3,
    upAtS: o.upAtS ?? 4,
    published,
    owed: published * o.clients,
    delivered: published * o.clients - lost,
    lost,
    duplicates: 0,
    clientsLosing: lost > 0 ? 1 : 0,
    recovery: {
      p50Ms: o.p50Ms ?? o.p100Ms,
      p99Ms: o.p100Ms,
      p100Ms: o.p100Ms,
      back: o.p100Ms === null ? o.clients - 1 : o.clients,
      of: o.clients,
      ...(o.kept !== undefined && { kept: o.kept }),
    },
    ...(o.overflows !== undefined && { listenOverflows: o.overflows, listenDrops: o.overflows }),
    ...(o.cpu !== undefined && { stormPeakCpuPct: o.cpu }),
    ...(o.afterP99Ms !== undefined && { afterP99Ms: o.afterP99Ms }),
    timeline: [],
  };
}

function row(transport: string, x: Omit<FailoverExtra, 'runs'>, runs: RunSpec[]): TransportResult {
  const extra: FailoverExtra = { ...x, runs: runs.map(run) };
  return { transport, state: 'completed', error: null, latencyMs: null, throughput: null, messages: null, wire: null, server: null, extra };
}

const scenario = (results: TransportResult[]): ScenarioResult => ({ name: 'failover', params: { rate: 10, size: 64 }, results });
const texts = (s: ScenarioResult) => (failoverFacet.findings?.(s) ?? []).map((f) => f.text);

test('the fastest row with nothing lost is named, with its time; a row that lost is not among them', () => {
  const s = scenario([
    row('sse', { reconnect: 'eventsource', resumes: true }, [{ mode: 'crash', clients: 1000, p100Ms: 5030, p50Ms: 3100 }]),
    row('polling', { reconnect: 'next poll', resumes: true }, [{ mode: 'crash', clients: 1000, p100Ms: 3950 }]),
    row('websocket+immediate', { reconnect: 'immediate', resumes: false }, [{ mode: 'crash', clients: 1000, p100Ms: 2540, lost: 5502 }]),
  ]);
  const t = texts(s);
  const fastest = t.find((x) => x.includes('recovers fastest'));
  assert.ok(fastest, t.join('\n'));
  assert.match(fastest, /^failover \(crash, 1,000 clients\): polling recovers fastest with nothing lost — every client back in 3\.95 s/);
  assert.match(fastest, /then sse in 5\.03 s\./);
  assert.ok(!fastest.includes('websocket+immediate'), 'a row that lost messages is not among those whole');
  assert.ok(t.some((x) => x.includes('messages lost on websocket+immediate (5,502 of 100,000')));
});

test('what jitter buys: each policy averaged over its rows, and the differences against immediate', () => {
  const at = (overflows: number, cpu: number, p100Ms: number) => [{ mode: 'crash', clients: 10_000, p100Ms, overflows, cpu }];
  const s = scenario([
    row('websocket+immediate', { reconnect: 'immediate', resumes: false }, at(100, 90, 12_000)),
    row('ws+immediate', { reconnect: 'immediate', resumes: false }, at(300, 96, 14_000)),
    row('websocket+exponential', { reconnect: 'exponential', resumes: false }, at(131_000, 70, 50_000)),
    row('websocket+full-jitter', { reconnect: 'full-jitter', resumes: false }, at(20, 60, 28_000)),
    row('ws+full-jitter', { reconnect: 'full-jitter', resumes: false }, at(40, 66, 30_000)),
    // A resuming row uses exponential backoff too but is a row of its own, not a policy's.
    row('websocket+resume', { reconnect: 'exponential', resumes: true }, at(9, 9, 9)),
  ]);
  const j = texts(s).find((x) => x.includes('what jitter buys'));
  assert.ok(j, texts(s).join('\n'));
  // immediate: mean overflows (100 + 300) / 2 = 200, CPU (90 + 96) / 2 = 93, back (12 + 14) / 2 = 13 s.
  assert.match(j, /immediate \(websocket\+immediate and ws\+immediate\): 200 listen overflows, peak server CPU 93 %, all back in 13 s/);
  assert.match(j, /exponential \(websocket\+exponential\): 131,000 listen overflows, peak server CPU 70 %, all back in 50 s/);
  // full jitter: overflows 30, CPU 63, back 29 s.
  assert.match(j, /full-jitter \(websocket\+full-jitter and ws\+full-jitter\): 30 listen overflows, peak server CPU 63 %, all back in 29 s/);
  // Against immediate: 200 − 30 = 170 fewer overflows, 93 − 63 = 30 points less CPU, 29 − 13 = 16 s later.
  assert.match(j, /full-jitter 170 fewer listen overflows, peak CPU 30 points lower, every client back 16 s later/);
  assert.match(j, /exponential 130,800 more listen overflows, peak CPU 23 points lower, every client back 37 s later/);
  assert.ok(!j.includes('websocket+resume'));
});

test('jitter with no listen overflow on either side says as many, not "0 fewer"', () => {
  const at = (cpu: number, p100Ms: number) => [{ mode: 'graceful', clients: 1000, p100Ms, overflows: 0, cpu }];
  const s = scenario([
    row('ws+immediate', { reconnect: 'immediate', resumes: false }, at(45, 1350)),
    row('ws+full-jitter', { reconnect: 'full-jitter', resumes: false }, at(43, 3780)),
  ]);
  const j = texts(s).find((x) => x.includes('what jitter buys'));
  assert.ok(j, texts(s).join('\n'));
  assert.match(j, /Against immediate: full-jitter as many listen overflows, peak CPU 2 points lower, every client back 2\.43 s later\./);
});

test('a policy whose clients were not all back says so, and is not compared on recovery', () => {
  const s = scenario([
    row('ws+immediate', { reconnect: 'immediate', resumes: false }, [{ mode: 'rolling', clients: 1000, p100Ms: null, overflows: 0, cpu: 76 }]),
    row('ws+full-jitter', { reconnect: 'full-jitter', resumes: false }, [{ mode: 'rolling', clients: 1000, p100Ms: 1130, overflows: 0, cpu: 41 }]),
  ]);
  const j = texts(s).find((x) => x.includes('what jitter buys'));
  assert.ok(j, texts(s).join('\n'));
  assert.match(j, /immediate \(ws\+immediate\): 0 listen overflows, peak server CPU 76 %, not all back;/);
  assert.match(j, /full-jitter as many listen overflows, peak CPU 35 points lower\.$/);
});

test('a rolling restart behind the backplane against one node killed and the single process crashing', () => {
  const s = scenario([
    row('sse', { reconnect: 'eventsource', resumes: true }, [{ mode: 'crash', clients: 1000, p100Ms: 5030, overflows: 500, afterP99Ms: 12 }]),
    row('sse-n2', { reconnect: 'eventsource', resumes: true, clusterOf: 'sse' }, [
      { mode: 'rolling', clients: 1000, p100Ms: 7200, overflows: 0, downAtS: 3, upAtS: 9.5, afterP99Ms: 40 },
      { mode: 'node-crash', clients: 1000, p100Ms: 3300, overflows: 12, kept: 500 },
    ]),
    row('websocket-n2', { reconnect: 'none', resumes: false, clusterOf: 'websocket' }, [
      { mode: 'rolling', clients: 1000, p100Ms: null, lost: 42_000, overflows: 0 },
    ]),
  ]);
  const t = texts(s);
  const sse = t.find((x) => x.includes("sse-n2's rolling restart"));
  assert.ok(sse, t.join('\n'));
  assert.match(sse, /took 6\.5 s: lost 0 of 100,000, all back in 7\.2 s, 0 listen overflows, p99 after 40 ms/);
  assert.match(sse, /one node killed: lost 0 of 100,000, all back in 3\.3 s, 500 never cut, 12 listen overflows/);
  assert.match(sse, /sse as one process through a crash: lost 0 of 100,000, all back in 5\.03 s, 500 listen overflows, p99 after 12 ms\.$/);
  const ws = (failoverFacet.findings?.(s) ?? []).find((f) => f.text.includes("websocket-n2's rolling restart"));
  assert.ok(ws);
  assert.equal(ws.level, 'warn', 'a rolling restart that lost messages warns');
  assert.match(ws.text, /lost 42,000 of 100,000, 999 of 1,000 back/);
  assert.ok(!ws.text.includes('one node killed'), 'no node-crash run to compare with');
});
