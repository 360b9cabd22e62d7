/** The echo scenarios' part of the report: round trips, and how they were driven. */
import type { ScenarioResult } from '../../metrics/results.ts';
import type { ScenarioFacet } from '../../report-model/facet.ts';
import { completedWith, fmtInt, fmtNum, fmtSig, num, orderedRows } from '../../report-model/format.ts';
import { joinParts, param, sizeText } from '../facet-kit.ts';
import { readEcho, type EchoExtra } from './schema.ts';

const MODE_WORDS = {
  'ping-pong': 'ping-pong, one message in flight (closed loop)',
  pipelined: 'pipelined, several messages in flight per connection',
  'open-loop': 'open loop, constant rate per client',
} as const;

/** The mode the rows ran in. */
function modeOf(s: ScenarioResult): EchoExtra['mode'] {
  return s.results.map((r) => readEcho(r.extra)?.mode).find((m) => m !== undefined);
}

/** The facet of an echo scenario; `load` says its load in words. */
function echoFacet(load: (s: ScenarioResult) => string | undefined): ScenarioFacet {
  return {
    loadInWords: load,
    roundTrip: true,
    // A pipelined run keeps every connection's window full: its round trips are mostly waiting in line.
    queuedLatency: (s) => modeOf(s) === 'pipelined',
    reads: (s) => modeOf(s) !== undefined,
    loadNote(s) {
      const mode = modeOf(s);
      return mode ? `Echo mode: ${MODE_WORDS[mode]}; latency is the round trip.` : undefined;
    },
    rowFigure(row) {
      const e = readEcho(row.extra);
      if (!e?.mode) return '';
      if (e.mode === 'ping-pong') return 'ping-pong (closed loop)';
      if (e.mode === 'pipelined') return `pipelined${e.inFlight !== undefined ? `, ${fmtInt(e.inFlight)} in flight` : ''}`;
      return 'open loop';
    },
    latencyNote(s) {
      // With one message in flight, round trips per second is the latency seen the other way.
      const rtps = completedWith(orderedRows(s.results), (r) => num(r.throughput?.messagesPerSec));
      if (modeOf(s) !== 'ping-pong' || rtps.length === 0) return undefined;
      const fast = rtps.reduce((a, b) => (b.v > a.v ? b : a));
      return `; most round trips per second with one in flight: ${fast.row.transport} (${fmtSig(fast.v)})`;
    },
  };
}

/** Open loop: each client sends at a fixed rate. */
export const echoOpenLoopFacet = echoFacet((s) => {
  const clients = param(s, 'clients');
  const rate = param(s, 'ratePerClient');
  if (clients === undefined || rate === undefined) return undefined;
  return joinParts(`${fmtInt(clients)} client${clients === 1 ? '' : 's'} each sending ${fmtNum(rate)} msg/s, echoed back (round trips)`, sizeText(s));
});

/** Ping-pong: one client, one message in flight. */
export const echoPingPongFacet = echoFacet((s) =>
  joinParts('one client, one message in flight (closed loop): round trips as fast as they come back', sizeText(s)),
);

/** Pipelined: a fixed count in flight per connection. */
export const echoPipelinedFacet = echoFacet((s) => {
  const clients = param(s, 'clients');
  const inFlight = param(s, 'inFlight');
  if (clients === undefined || inFlight === undefined) return undefined;
  return joinParts(
    `${fmtInt(clients)} connection${clients === 1 ? '' : 's'} × ${fmtInt(inFlight)} messages in flight, each resent as its echo returns`,
    sizeText(s),
  );
});
