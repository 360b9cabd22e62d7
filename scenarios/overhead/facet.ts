/** The overhead sweep's part of the report: bytes per message against rate, crossovers, and header traffic at scale. */
import { profileInWords } from '../../clients/headers.ts';
import type { ScenarioResult, TransportResult } from '../../metrics/results.ts';
import { axis, baseOptions, chartBlock, numbersTable, transportLine, useLog, type LineDataset, type XY } from '../../report-model/charts.ts';
import type { Block, Finding } from '../../report-model/doc.ts';
import type { MatrixColumn, ScenarioFacet } from '../../report-model/facet.ts';
import { trialRange } from '../../report-model/trials.ts';
import { fmtBytes, fmtDuration, fmtInt, fmtNum, fmtRatio, fmtSig, listInWords, numList, orderedRows } from '../../report-model/format.ts';
import { transportByName } from '../../transports/index.ts';
import { detailTable, joinParts, matrixCells, oneTrial, param, rowsWith } from '../facet-kit.ts';
import { h2Findings } from './h2-findings.ts';
import { readOverheadSummary, readOverheadSweep, readPayloadPoints, readResponseHeaders, type OverheadSweepPoint } from './schema.ts';

function loadInWords(s: ScenarioResult): string | undefined {
  const rates = numList(s.params['rates']);
  const sizes = numList(s.params['sizes']);
  const clients = param(s, 'clients');
  const poll = param(s, 'pollIntervalMs');
  if (!rates || !sizes) return undefined;
  return joinParts(
    `${clients !== undefined ? `${fmtInt(clients)} subscribers, ` : ''}${listInWords(rates.map(fmtNum))} msg/s per client × ${listInWords(sizes.map(fmtInt))} B payloads`,
    poll !== undefined && `polling every ${fmtDuration(poll)}`,
    headerWords(s) !== undefined && `with ${headerWords(s)}`,
  );
}

/** The header profile the HTTP clients sent, in words (bytes on the wire depend on it). */
function headerWords(s: ScenarioResult): string | undefined {
  return profileInWords(s.params['headers']);
}

/** Bytes per message at the lowest and the highest rate swept (smallest payload): the matrix's two bytes columns. */
function matrix(s: ScenarioResult): MatrixColumn[] {
  const lines = sweepLines(s);
  const all = [...lines.values()].flat();
  if (all.length === 0) return [];
  const size = Math.min(...all.map((p) => p.sizeBytes));
  const rates = [...new Set(all.filter((p) => p.sizeBytes === size).map((p) => p.ratePerClient))].sort((a, b) => a - b);
  const picks: [number, string, number][] = [[rates[0]!, 'bytes-low', 20]];
  if (rates.length > 1) picks.push([rates[rates.length - 1]!, 'bytes-high', 21]);
  const headers = headerWords(s);
  return picks.map(([rate, key, order]) => ({
    key,
    order,
    label: `B/msg at ${fmtNum(rate)}/s`,
    question: `fewest bytes on the wire per message (${fmtNum(rate)} msg/s per client, ${fmtInt(size)} B payloads${headers ? `, ${headers}` : ''})`,
    better: 'lower' as const,
    cells: matrixCells(s, (r) => {
      const pt = lines.get(r.transport)?.find((p) => p.sizeBytes === size && p.ratePerClient === rate);
      if (!pt) return undefined;
      // The headline (first) point of the sweep is the one whose spread the trials kept.
      const first = r.wire?.bytesPerMessage === pt.bytesPerMessage;
      const range = (first ? trialRange(r, 'wire.bytesPerMessage', () => pt.bytesPerMessage) : undefined) ?? oneTrial(pt.bytesPerMessage);
      return { range, text: `${fmtSig(pt.bytesPerMessage)} B` };
    }),
  }));
}

/** A transport as the per-rate finding names it: short polling with its interval, the engine in words, any other by name. */
function transportInWords(t: string, pollIntervalMs?: number): string {
  const d = transportByName(t);
  if (d?.traits.delivery === 'poll') return pollIntervalMs !== undefined ? `${d.inWords} every ${fmtDuration(pollIntervalMs)}` : d.inWords;
  if (d?.role === 'engine') return d.inWords;
  return t;
}

/** Sweep lines of the completed rows, by transport. */
function sweepLines(s: ScenarioResult): Map<string, OverheadSweepPoint[]> {
  return new Map(rowsWith(s, readOverheadSweep).map(({ r, x }) => [r.transport, x]));
}

/** Bytes per delivered message at each measured rate (smallest size), against the engine (or its reference). */
function perRateFindings(s: ScenarioResult): Finding[] {
  const out: Finding[] = [];
  const lines = sweepLines(s);
  const roleIn = (role: 'engine' | 'reference') => [...lines.keys()].find((t) => transportByName(t)?.role === role);
  const refName = roleIn('engine') ?? roleIn('reference');
  if (!refName) return out;
  const ref = lines.get(refName)!;
  const size = Math.min(...ref.map((p) => p.sizeBytes));
  const rates = [...new Set(ref.filter((p) => p.sizeBytes === size).map((p) => p.ratePerClient))].sort((a, b) => a - b);
  const poll = param(s, 'pollIntervalMs');
  for (const rate of rates) {
    const refPt = ref.find((p) => p.sizeBytes === size && p.ratePerClient === rate)!;
    if (!(refPt.bytesPerMessage > 0)) continue;
    const others: string[] = [];
    for (const [t, pts] of lines) {
      if (t === refName) continue;
      const pt = pts.find((p) => p.sizeBytes === size && p.ratePerClient === rate);
      if (!pt) continue;
      others.push(
        others.length === 0
          ? `${transportInWords(t, poll)} spent ${fmtSig(pt.bytesPerMessage)} bytes per delivered message, ${fmtRatio(pt.bytesPerMessage / refPt.bytesPerMessage)} ${transportInWords(refName)} (${fmtSig(refPt.bytesPerMessage)} bytes)`
          : `${t} ${fmtSig(pt.bytesPerMessage)} (${fmtRatio(pt.bytesPerMessage / refPt.bytesPerMessage)})`,
      );
    }
    if (others.length > 0)
      out.push({
        level: 'info',
        scenario: s.name,
        text: `${s.name}: at ${fmtNum(rate)} msg/s per client and ${fmtInt(size)} B messages, ${others.join('; ')}${headerWords(s) ? `; the clients sent ${headerWords(s)}` : ''}.`,
      });
  }
  return out;
}

/**
 * The headers each HTTP row's server really sent on one reply, shown where an HTTP transport
 * ran on more than one server (express and node:http), since that is where they differ.
 */
const serverInWords = (kind: string | undefined) => (kind === 'node' ? 'node:http' : (kind ?? 'its server'));

function headerFindings(s: ScenarioResult): Finding[] {
  const rows = rowsWith(s, readResponseHeaders);
  if (!rows.some(({ r }) => transportByName(r.transport)?.variantOf)) return [];
  return rows.map(({ r, x }) => ({
    level: 'info' as const,
    scenario: s.name,
    text: `${s.name}/${r.transport}: one reply's head on ${serverInWords(transportByName(r.transport)?.httpServer)}: ${x.join(' | ')}.`,
  }));
}

/**
 * Over TLS (`--tls`): per row, what TLS adds to a message of the smallest size, from the
 * server's two counts of the same traffic (at the TCP socket, and plaintext above TLS).
 */
function tlsFindings(s: ScenarioResult): Finding[] {
  const out: Finding[] = [];
  for (const { r, x: sweep } of rowsWith(s, readOverheadSweep)) {
    const smallest = Math.min(...sweep.map((p) => p.sizeBytes));
    const points = sweep.filter((p) => p.sizeBytes === smallest && p.plainBytesPerMessage !== undefined);
    if (points.length === 0) continue;
    const hs = r.extra?.['tlsHandshakeBytesPerClient'];
    const parts = points.map((p) => {
      const plain = p.plainBytesPerMessage!;
      const added = p.bytesPerMessage - plain;
      return `${fmtSig(p.bytesPerMessage)} B on the wire at ${fmtNum(p.ratePerClient)} msg/s against ${fmtSig(plain)} B without TLS (+${fmtSig(added)} B, ${fmtRatio(p.bytesPerMessage / plain)})`;
    });
    out.push({
      level: 'info',
      scenario: s.name,
      topic: 'bytes',
      text: `${s.name}: over TLS, a ${fmtInt(smallest)} B message on ${r.transport} costs ${listInWords(parts)}${typeof hs === 'number' ? `; each connection's handshake took ${fmtBytes(hs)}, amortised into these figures over the session` : ''}.`,
    });
  }
  return out;
}

function findings(s: ScenarioResult): Finding[] {
  const out = [...perRateFindings(s), ...headerFindings(s), ...tlsFindings(s), ...h2Findings(s)];
  const summary = readOverheadSummary(s.summary);
  // An empty list: no two lines crossed within the rates measured.
  const rates = numList(s.params['rates']);
  if (summary?.crossovers?.length === 0 && rates && rates.length > 1) {
    out.push({
      level: 'info',
      scenario: s.name,
      text: `${s.name}: no two transports' bytes-per-message lines cross between the measured rates (${fmtNum(Math.min(...rates))} to ${fmtNum(Math.max(...rates))} msg/s per client): none becomes cheaper than another within the sweep.`,
    });
  }
  for (const c of summary?.crossovers ?? []) {
    const other = c.cheaperBelow === c.a ? c.b : c.a;
    out.push({
      level: 'info',
      scenario: s.name,
      text: c.cheaperBelow
        ? `${s.name}: with ${fmtInt(c.sizeBytes)} B messages, ${c.cheaperBelow} costs fewer bytes per message than ${other} below ${fmtNum(c.ratePerClient)} msg/s per client, more above.`
        : `${s.name}: ${c.a} and ${c.b} cost the same bytes per message at ${fmtNum(c.ratePerClient)} msg/s per client for ${fmtInt(c.sizeBytes)} B messages.`,
    });
  }
  return out;
}

function details(s: ScenarioResult): Block[] {
  const out: Block[] = [];
  const summary = readOverheadSummary(s.summary);
  const cs = summary?.crossovers ?? [];
  if (cs.length > 0) {
    out.push(
      detailTable(
        'overhead-crossovers',
        'Crossovers: where two transports cost the same bytes per message',
        ['payload B', 'msg/s per client', 'cheaper below', 'cheaper above'],
        [false, false, true, true],
        [...cs]
          .sort((a, b) => a.sizeBytes - b.sizeBytes || a.ratePerClient - b.ratePerClient)
          .map((c) => [
            fmtInt(c.sizeBytes),
            fmtNum(c.ratePerClient),
            c.cheaperBelow ?? `${c.a} / ${c.b}`,
            c.cheaperBelow ? (c.cheaperBelow === c.a ? c.b : c.a) : '–',
          ]),
        ['Interpolated between measured rates on a log scale.'],
      ),
    );
  }
  const ex = summary?.extrapolated ?? [];
  if (ex.length > 0) {
    const clients = [...new Set(ex.map((e) => e.clients))].sort((a, b) => a - b);
    const transports = orderedRows(ex.map((e) => ({ transport: e.transport }) as TransportResult))
      .map((r) => r.transport)
      .filter((t, i, a) => a.indexOf(t) === i);
    const sources = [
      ...new Set(ex.filter((e) => e.fromRate !== undefined && e.fromSize !== undefined).map((e) => `${fmtNum(e.fromRate!)} msg/s, ${fmtInt(e.fromSize!)} B`)),
    ];
    const from = sources.length > 0 ? ` at ${sources.join(' / ')}` : '';
    out.push(
      detailTable(
        'overhead-extrapolated',
        `Header bytes per second at scale, extrapolated from the measured per-message overhead${from} (not measured)`,
        ['clients', ...transports],
        [false, ...transports.map(() => false)],
        clients.map((c) => [
          fmtInt(c),
          ...transports.map((t) => {
            const e = ex.find((x) => x.clients === c && x.transport === t);
            return e ? `${fmtBytes(e.headerBytesPerSec)}/s` : '–';
          }),
        ]),
        [`Each client receiving 1 msg/s; the lab did not run these client counts, it multiplied the overhead measured${from} per message.`],
      ),
    );
  }
  const byPayload = payloadTable(s);
  if (byPayload) out.push(byPayload);
  return out;
}

/**
 * Bytes on the wire against server CPU per delivered message, per payload kind: what
 * compression (the permessage-deflate rows) buys in bytes and costs in CPU, on text that
 * compresses and text that does not. Only when the sweep recorded a payload kind.
 */
function payloadTable(s: ScenarioResult): Block | undefined {
  const rows: string[][] = [];
  for (const { r, x: points } of rowsWith(s, readPayloadPoints)) {
    for (const p of points) {
      if (p.payload === undefined) continue;
      rows.push([
        r.transport,
        p.payload,
        fmtInt(p.sizeBytes),
        fmtNum(p.ratePerClient),
        fmtSig(p.steadyBytesPerMessage ?? p.bytesPerMessage),
        fmtRatio((p.steadyBytesPerMessage ?? p.bytesPerMessage) / p.sizeBytes),
        p.serverCpuUsPerMessage !== undefined ? fmtSig(p.serverCpuUsPerMessage) : '–',
      ]);
    }
  }
  if (rows.length === 0) return undefined;
  return detailTable(
    'overhead-payloads',
    'Bytes on the wire and server CPU per message, by payload',
    ['transport', 'payload', 'payload B', 'msg/s per client', 'steady B/msg', 'wire/payload', 'server CPU µs/msg'],
    [true, true, false, false, false, false, false],
    rows,
    [
      'compressible: JSON-like records whose field names repeat; incompressible: random base64. Consecutive messages differ, so a compression context cannot reuse earlier ones.',
      'Server CPU is the whole server process over the point’s window, divided by the messages delivered in it.',
    ],
  );
}

/** y of a sweep line at rate x, interpolated on log–log axes; undefined outside the line. */
function sweepAt(points: { ratePerClient: number; y: number }[], x: number): number | undefined {
  const pts = [...points].sort((a, b) => a.ratePerClient - b.ratePerClient);
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i]!;
    const b = pts[i + 1]!;
    if (x < a.ratePerClient || x > b.ratePerClient) continue;
    if (a.ratePerClient <= 0 || b.ratePerClient <= 0 || a.y <= 0 || b.y <= 0 || a.ratePerClient === b.ratePerClient) return a.y;
    const f = Math.log(x / a.ratePerClient) / Math.log(b.ratePerClient / a.ratePerClient);
    return Math.exp(Math.log(a.y) + f * Math.log(b.y / a.y));
  }
  return pts.length === 1 && pts[0]!.ratePerClient === x ? pts[0]!.y : undefined;
}

type Sweeps = { r: TransportResult; x: OverheadSweepPoint[] }[];
type Crossovers = NonNullable<NonNullable<ReturnType<typeof readOverheadSummary>>['crossovers']>;

/** Where the lines of two transports cross at one size: the marks on the chart and a row each for the numbers. */
function crossoverMarks(crossovers: Crossovers, lines: Map<string, OverheadSweepPoint[]>, size: number): { marks: XY[]; markRows: string[][] } {
  const marks: XY[] = [];
  const markRows: string[][] = [];
  for (const c of crossovers.filter((c) => c.sizeBytes === size)) {
    const overheadLine = (t: string) => (lines.get(t) ?? []).map((p) => ({ ratePerClient: p.ratePerClient, y: p.overheadBytesPerMessage }));
    const y = sweepAt(overheadLine(c.a), c.ratePerClient) ?? sweepAt(overheadLine(c.b), c.ratePerClient);
    if (y !== undefined) marks.push({ x: c.ratePerClient, y });
    markRows.push([
      c.cheaperBelow ? `${c.cheaperBelow} = ${c.cheaperBelow === c.a ? c.b : c.a}` : `${c.a} = ${c.b}`,
      fmtSig(c.ratePerClient),
      y !== undefined ? fmtSig(y) : '–',
    ]);
  }
  return { marks, markRows };
}

/** Overhead per message against rate at one payload size, a line per transport, the crossovers marked. */
function sizeChart(sweeps: Sweeps, crossovers: Crossovers, size: number): Block {
  const datasets: LineDataset[] = [];
  const xs: number[] = [];
  const ys: number[] = [];
  const lines = new Map<string, OverheadSweepPoint[]>();
  for (const { r, x: sweep } of sweeps) {
    const pts = sweep.filter((p) => p.sizeBytes === size).sort((a, b) => a.ratePerClient - b.ratePerClient);
    if (pts.length === 0) continue;
    lines.set(r.transport, pts);
    // Overhead, not all bytes: at one payload size the payload is the same for every transport,
    // so the lines cross where the totals do, and a large payload does not flatten them.
    datasets.push(
      transportLine(
        r,
        pts.map((p) => ({ x: p.ratePerClient, y: p.overheadBytesPerMessage })),
      ),
    );
    for (const p of pts) {
      xs.push(p.ratePerClient);
      ys.push(p.overheadBytesPerMessage);
    }
  }
  const { marks, markRows } = crossoverMarks(crossovers, lines, size);
  if (marks.length > 0) {
    datasets.push({
      label: 'crossover',
      data: marks,
      showLine: false,
      pointStyle: 'crossRot',
      pointRadius: 9,
      pointBorderWidth: 3,
      borderColor: '#222222',
      backgroundColor: '#222222',
    });
  }
  return chartBlock({
    key: 'overhead-sweep',
    title: `Overhead per message vs rate, ${fmtInt(size)} B payload`,
    caption: `Wire bytes per delivered message beyond the ${fmtInt(size)} B payload (headers, framing, empty polls), set-up amortised over the session; totals, steady state and set-up apart in the numbers. Lower is cheaper. ✕ marks where two transports cost the same.`,
    config: {
      type: 'scatter',
      data: { datasets },
      options: baseOptions<'scatter'>({
        x: axis('messages per second per client', useLog(xs)),
        y: axis(`overhead bytes per delivered message${useLog(ys) ? ' (log)' : ''}`, useLog(ys)),
      }),
    },
    head: ['transport', 'msg/s per client', 'B/msg', 'overhead B/msg', 'steady B/msg', 'set-up B/client'],
    rows: [...lines.entries()].flatMap(([n, pts]) =>
      pts.map((p) => [
        n,
        fmtNum(p.ratePerClient),
        fmtSig(p.bytesPerMessage),
        fmtSig(p.overheadBytesPerMessage),
        p.steadyBytesPerMessage !== undefined ? fmtSig(p.steadyBytesPerMessage) : '–',
        p.setupBytesPerClient !== undefined ? fmtSig(p.setupBytesPerClient) : '–',
      ]),
    ),
    more:
      markRows.length > 0
        ? [
            numbersTable('overhead-crossovers', ['cheaper below = cheaper above', 'msg/s per client', 'overhead B/msg there'], markRows, {
              title: 'Crossovers',
            }),
          ]
        : [],
  });
}

function charts(s: ScenarioResult): Block[] {
  const sweeps = rowsWith(s, readOverheadSweep);
  const crossovers = readOverheadSummary(s.summary)?.crossovers ?? [];
  const sizes = [...new Set(sweeps.flatMap((x) => x.x.map((p) => p.sizeBytes)))].sort((a, b) => a - b);
  return sizes.map((size) => sizeChart(sweeps, crossovers, size));
}

/** The overhead facet. */
export const overheadFacet: ScenarioFacet = {
  loadInWords,
  // The sweep says bytes per message per rate itself; one row's figures are one point of it.
  sideBySide: () => false,
  reads: (s) => s.results.some((r) => readOverheadSweep(r.extra) !== undefined),
  topic: 'bytes',
  findings,
  details,
  charts,
  matrix,
};
