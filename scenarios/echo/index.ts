/**
 * `echo`: a client sends, the server echoes it back, the client times the
 * round trip. Two shapes:
 *   echo            many connections, each sending at a constant open-loop rate;
 *                   latency from the intended send time, so a slow server cannot hide
 *   echo-ping-pong  one connection, one message in flight (closed loop by nature:
 *                   corrected and uncorrected are the same figure here)
 * For HTTP transports the upward path is a POST and the echo comes back on the
 * subscription: for short polling, on a later poll — which is the point.
 */
import type { TransportName, TransportResult } from '../../metrics/results.ts';
import type { HeaderProfile } from '../../clients/contract.ts';
import { deliveryLagMs, type RunContext, type Scenario } from '../contract.ts';
import { echoOpenLoopFacet, echoPingPongFacet, echoPipelinedFacet } from './facet.ts';
import type { FlagReader, FlagSpecs } from '../../runner/flags.ts';
import { httpLoadFlags } from '../../runner/flags.ts';
import { Session } from '../../runner/session.ts';
import { collect } from '../../runner/collect.ts';
import { type FixedLoadSpec, fixedLoadPlannedMs, fixedLoadSpec, withFixedLoad } from '../../runner/fixed-load.ts';

export interface EchoParams {
  clients: number;
  /** Messages per second each client sends (open loop). */
  ratePerClient: number;
  size: number;
  durationMs: number;
  warmupMs: number;
  pollIntervalMs: number;
  longPollTimeoutMs: number;
  headers: HeaderProfile;
  loadProcesses: number;
}

/** Connecting one client, for the ETA (measured on the quick profile). */
const CONNECT_MS = 4;

const ECHO_FLAGS: FlagSpecs = {
  'echo-clients': { help: 'echo: connections sending at once', kind: 'number', quick: 20, full: 200, min: 1, max: 100_000, integer: true },
  'echo-rate': { help: 'echo: messages per second per connection', kind: 'number', quick: 5, full: 10, min: 0.01, max: 100_000 },
  'echo-duration': { help: 'echo, ping-pong, pipelined: seconds measured', kind: 'number', quick: 1.5, full: 10, min: 0.1, max: 3600 },
};

function echoParams(f: FlagReader): EchoParams {
  return {
    clients: f.num('echo-clients'),
    ratePerClient: f.num('echo-rate'),
    size: f.num('size'),
    durationMs: f.num('echo-duration') * 1000,
    warmupMs: f.num('warmup') * 1000,
    ...httpLoadFlags(f),
    loadProcesses: f.num('load-processes'),
  };
}

async function withSession<T>(transport: TransportName, p: PingPongParams, clients: number, ctx: RunContext, body: (s: Session) => Promise<T>): Promise<T> {
  const s = new Session(transport, { longPollTimeoutMs: p.longPollTimeoutMs }, ctx);
  try {
    ctx.progress(`${transport}: starting server`);
    await s.startServer();
    ctx.progress(`${transport}: connecting ${clients} client(s)`);
    await s.startLoad({ clients, processes: clients === 1 ? 1 : p.loadProcesses, pollIntervalMs: p.pollIntervalMs, headers: p.headers, mode: 'echo' });
    return await body(s);
  } finally {
    await s.close();
  }
}

export const echo: Scenario<EchoParams> = {
  name: 'echo',
  summary: 'N connections each send at a constant rate; the server echoes; round-trip latency from the intended send time',
  facet: echoOpenLoopFacet,
  flags: ECHO_FLAGS,
  params: echoParams,
  runsOnTarget: true,
  plannedMs: (p, t) => p.warmupMs + p.durationMs + deliveryLagMs(t, p.pollIntervalMs) + p.clients * CONNECT_MS,
  run(transport: TransportName, p: EchoParams, ctx: RunContext): Promise<TransportResult> {
    return withSession(transport, p, p.clients, ctx, async (s) => {
      const total = p.ratePerClient * p.clients;
      const warmCount = Math.round((total * p.warmupMs) / 1000);
      await s.arm(warmCount + 1);
      ctx.progress(`${transport}: ${p.clients} × ${p.ratePerClient} msg/s for ${p.durationMs / 1000} s`);
      const sending = s.send({ ratePerClient: p.ratePerClient, size: p.size, durationMs: p.durationMs + p.warmupMs });
      if (warmCount) await new Promise((r) => setTimeout(r, p.warmupMs));
      await s.measure(warmCount + 1);
      const { sent, last } = await sending;
      await s.drain(sent, Math.max(2000, 2 * p.pollIntervalMs + 1000), ctx.signal);
      return collect(s, transport, {
        first: warmCount + 1,
        last,
        size: p.size,
        seconds: p.durationMs / 1000,
        upPayload: true,
        extra: { mode: 'open-loop', ratePerClient: p.ratePerClient },
      });
    });
  },
};

/** Ping-pong has one connection and no rate of its own: it goes as fast as round trips allow. */
export type PingPongParams = Omit<EchoParams, 'ratePerClient'>;

export const echoPingPong: Scenario<PingPongParams> = {
  name: 'echo-ping-pong',
  summary: 'one connection, one message in flight: round trips per second and their latency (closed loop)',
  facet: echoPingPongFacet,
  flags: {},
  runsOnTarget: true,
  params: (f) => {
    const { ratePerClient: _unused, ...rest } = echoParams(f);
    return { ...rest, clients: 1, loadProcesses: 1 };
  },
  plannedMs: (p) => p.durationMs,
  run(transport: TransportName, p: PingPongParams, ctx: RunContext): Promise<TransportResult> {
    return withSession(transport, p, 1, ctx, async (s) => {
      await s.measure(1);
      ctx.progress(`${transport}: ping-pong for ${p.durationMs / 1000} s`);
      const done = await s.pingPong({ size: p.size, durationMs: p.durationMs });
      return collect(s, transport, { first: 1, last: done.last, size: p.size, seconds: p.durationMs / 1000, upPayload: true, extra: { mode: 'ping-pong' } });
    });
  },
};

/** Pipelined echo: where framing cost shows, judged per server CPU second. */
export interface PipelinedParams extends PingPongParams {
  inFlight: number;
  /** The fixed-load phase after the pipelined one (frame rows): server CPU per message at a rate all sustain. */
  fixed?: FixedLoadSpec;
}

export const echoPipelined: Scenario<PipelinedParams> = {
  name: 'echo-pipelined',
  summary: 'N connections × K messages in flight, each resent as its echo returns: messages/s and messages per server CPU second',
  facet: echoPipelinedFacet,
  flags: {
    'pipeline-clients': { help: 'echo-pipelined: connections', kind: 'number', quick: 50, min: 1, max: 10_000, integer: true },
    'in-flight': { help: 'echo-pipelined: messages in flight per connection', kind: 'number', quick: 16, min: 1, max: 10_000, integer: true },
  },
  runsOnTarget: true,
  params: (f) => {
    const { ratePerClient: _unused, ...rest } = echoParams(f);
    return { ...rest, clients: f.num('pipeline-clients'), inFlight: f.num('in-flight'), loadProcesses: 1, fixed: fixedLoadSpec(f, 'echo') };
  },
  plannedMs: (p, t) => p.durationMs + p.clients * CONNECT_MS + fixedLoadPlannedMs(t.name, p.fixed),
  async run(transport: TransportName, p: PipelinedParams, ctx: RunContext): Promise<TransportResult> {
    const row = await withSession(transport, p, p.clients, ctx, async (s) => {
      await s.measure(1);
      ctx.progress(`${transport}: ${p.clients} × ${p.inFlight} in flight for ${p.durationMs / 1000} s`);
      const done = await s.pingPong({ size: p.size, durationMs: p.durationMs, inFlight: p.inFlight });
      return collect(s, transport, {
        first: 1,
        last: done.last,
        size: p.size,
        seconds: p.durationMs / 1000,
        upPayload: true,
        extra: { mode: 'pipelined', inFlight: p.inFlight },
      });
    });
    // The fixed-load phase reads the server's CPU: none to read on a server the lab did not start.
    return p.fixed && ctx.path?.target === undefined ? withFixedLoad(row, transport, p.fixed, ctx, ctx.progress) : row;
  },
};
