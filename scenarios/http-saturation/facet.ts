/** The http-saturation scenario's part of the report: polls answered per second at saturation, per kind of poll. */
import type { ChartDataset } from 'chart.js';
import type { ScenarioResult, TransportResult } from '../../metrics/results.ts';
import { alpha, axis, baseOptions, chartBlock, transportBars, transportColor } from '../../report-model/charts.ts';
import type { Block, Finding } from '../../report-model/doc.ts';
import type { ScenarioFacet } from '../../report-model/facet.ts';
import { fmtDuration, fmtFixed, fmtInt, fmtNum, fmtSig } from '../../report-model/format.ts';
import { transportByName } from '../../transports/index.ts';
import { detailTable, joinParts, param, rowsWith } from '../facet-kit.ts';
import { readHttpSaturation, readSaturationVariants, type SaturationLatency, type SaturationVariantView } from './schema.ts';

type Bars = ChartDataset<'bar', (number | null)[]>[];

/** A variant in words: "empty poll (204)". */
function variantName(name: string, status?: number): string {
  const what = name === 'empty' ? 'empty poll' : name === 'message' ? 'one-message poll' : name;
  return status !== undefined ? `${what} (${status})` : what;
}

const dash = (v: number | undefined, f: (x: number) => string) => (v === undefined ? '–' : f(v));

function loadInWords(s: ScenarioResult): string | undefined {
  const conns = param(s, 'connections');
  const dur = param(s, 'durationSec');
  const poll = param(s, 'pollIntervalMs');
  if (conns === undefined) return undefined;
  return joinParts(
    `autocannon on GET /poll over ${fmtInt(conns)} keep-alive connections${dur !== undefined ? `, ${fmtNum(dur)} s per variant` : ''}, closed loop`,
    poll !== undefined && `capacity expressed at a ${fmtDuration(poll)} poll interval`,
  );
}

function rowFigure(row: TransportResult): string {
  const hs = readHttpSaturation(row.extra);
  const parts: string[] = [];
  if (hs?.requestsPerSec !== undefined) {
    const v = readSaturationVariants(row.extra)?.find((x) => x.name === hs.primary);
    parts.push(`${fmtSig(hs.requestsPerSec)} req/s${v ? ` (${variantName(v.name, v.expectedStatus)})` : ''}`);
  }
  if (hs?.maxClientsAtPollInterval !== undefined)
    parts.push(`≈ ${fmtInt(hs.maxClientsAtPollInterval)} clients at ${fmtDuration(hs.pollIntervalMs ?? 1000)} polls`);
  return parts.join(', ');
}

/** Server CPU per answered request of a variant, µs: percent of a core over requests per second. */
function cpuUsPerRequest(v: SaturationVariantView): number | undefined {
  return v.serverCpuPct !== undefined && v.requestsPerSec > 0 ? (v.serverCpuPct * 10_000) / v.requestsPerSec : undefined;
}

/** Which side limited a variant, in words. */
function limitInWords(bound: string | undefined): string {
  if (bound === 'client') return 'client-bound: a floor for the server';
  if (bound === 'server' || bound === 'both') return `${bound}-bound`;
  return bound === 'neither' ? 'neither side at 90 % of a core' : '';
}

/**
 * The framework's share where a transport ran on express and on node:http (a variant row):
 * server CPU per answered poll of each kind on both, from each run's CPU and rate.
 */
function frameworkShare(s: ScenarioResult): Finding[] {
  const rows = rowsWith(s, (e) => readSaturationVariants(e));
  const out: Finding[] = [];
  for (const { r, x: variants } of rows) {
    const d = transportByName(r.transport);
    if (!d?.variantOf) continue;
    const base = rows.find((b) => b.r.transport === d.variantOf);
    if (!base) continue;
    const parts: string[] = [];
    for (const v of variants) {
      const w = base.x.find((b) => b.name === v.name);
      const node = cpuUsPerRequest(v);
      const framework = w && cpuUsPerRequest(w);
      if (node === undefined || framework === undefined || !w) continue;
      const share = framework > 0 ? Math.max(0, (framework - node) / framework) : 0;
      parts.push(
        `${variantName(v.name, v.expectedStatus)}: ${fmtSig(framework)} µs of server CPU per request on ${transportByName(base.r.transport)?.httpServer ?? 'express'} (${limitInWords(w.bound) || 'limit not recorded'}), ` +
          `${fmtSig(node)} µs on node:http (${limitInWords(v.bound) || 'limit not recorded'}); the framework's share ≈ ${fmtFixed(share * 100, 0)} %`,
      );
    }
    if (parts.length > 0)
      out.push({ level: 'info', scenario: s.name, text: `${s.name}/${d.variantOf} on express beside ${r.transport}: ${parts.join('; ')}.` });
  }
  return out;
}

function findings(s: ScenarioResult): Finding[] {
  const out: Finding[] = [];
  for (const { r, x: hs } of rowsWith(s, (e) => ({ hs: readHttpSaturation(e), variants: readSaturationVariants(e) }))) {
    if (!hs.hs?.requestsPerSec && !hs.variants) continue;
    const parts = (hs.variants ?? []).map((v) => {
      const us = cpuUsPerRequest(v);
      const notes = [us !== undefined ? `${fmtSig(us)} µs server CPU each` : '', limitInWords(v.bound)].filter(Boolean);
      return `${fmtSig(v.requestsPerSec)} ${variantName(v.name)}s/s${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
    });
    let text = `${s.name}/${r.transport}: ${parts.length > 0 ? parts.join(', ') : `${fmtSig(hs.hs!.requestsPerSec!)} requests/s`}`;
    if (hs.hs?.maxClientsAtPollInterval !== undefined)
      text += `; enough for ≈ ${fmtInt(hs.hs.maxClientsAtPollInterval)} clients polling every ${fmtDuration(hs.hs.pollIntervalMs ?? 1000)}, if the server did nothing else`;
    out.push({ level: 'info', scenario: s.name, text: text + '.' });
  }
  out.push(...frameworkShare(s));
  return out;
}

function details(s: ScenarioResult): Block[] {
  const withV = rowsWith(s, readSaturationVariants);
  if (withV.length === 0) return [];
  return [
    detailTable(
      'http-saturation',
      'Saturation per kind of poll',
      ['transport', 'poll', 'req/s', 'p50 ms', 'p99 ms', 'server CPU %', 'autocannon CPU %', 'bound', 'B up/req', 'B down/req', 'clients at poll interval'],
      [true, true, false, false, false, false, false, true, false, false, false],
      withV.flatMap(({ r, x: vs }) =>
        vs.map((v) => [
          r.transport,
          variantName(v.name, v.expectedStatus),
          fmtSig(v.requestsPerSec),
          dash(v.latencyMs.p50, fmtSig),
          dash(v.latencyMs.p99, fmtSig),
          dash(v.serverCpuPct, (x) => fmtFixed(x, 0)),
          dash(v.clientCpuPct, (x) => fmtFixed(x, 0)),
          v.bound ?? '–',
          dash(v.bytesUpPerRequest, fmtSig),
          dash(v.bytesDownPerRequest, fmtSig),
          dash(v.maxClientsAtPollInterval, fmtInt),
        ]),
      ),
      [
        'Closed loop (each connection sends its next request when the answer arrives), so the latency is not corrected for coordinated omission; autocannon reports whole milliseconds. "bound" names the side that ran at ≥ 90 % of a core; client-bound figures are a floor for the server.',
      ],
    ),
  ];
}

/** Charts per kind of poll: requests per second and latency, in each transport's colour. */
function variantCharts(withV: { r: TransportResult; x: SaturationVariantView[] }[]): Block[] {
  const names = [...new Set(withV.flatMap((x) => x.x.map((v) => v.name)))].sort();
  const labels = withV.map((x) => x.r.transport);
  const shade = (i: number) => (i === 0 ? 1 : 0.45);
  const bars = (get: (v: SaturationVariantView) => number | undefined): Bars =>
    names.map((n, i) => {
      const vs = withV.map((x) => x.x.find((v) => v.name === n));
      const status = vs.find((v) => v?.expectedStatus !== undefined)?.expectedStatus;
      return {
        label: variantName(n, status),
        data: vs.map((v) => (v ? (get(v) ?? null) : null)),
        backgroundColor: withV.map((x) => alpha(transportColor(x.r.transport), shade(i))),
        borderColor: withV.map((x) => transportColor(x.r.transport)),
        borderWidth: 1,
        barLabels: vs.map((v) => (v?.bound && v.bound !== 'neither' ? `${v.bound}-bound` : '')),
      };
    });
  const latSets: Bars = [];
  for (const [i, n] of names.entries()) {
    for (const k of ['p50', 'p99'] as const) {
      const vs = withV.map((x) => x.x.find((v) => v.name === n));
      latSets.push({
        label: `${variantName(n)} ${k}`,
        data: vs.map((v) => v?.latencyMs[k] ?? null),
        backgroundColor: withV.map((x) => alpha(transportColor(x.r.transport), k === 'p50' ? 0.35 * shade(i) + 0.1 : shade(i))),
        borderColor: withV.map((x) => transportColor(x.r.transport)),
        borderWidth: 1,
      });
    }
  }
  return [
    chartBlock({
      key: 'http-rps',
      title: 'Polls answered per second at saturation',
      caption:
        'autocannon, closed loop. Solid: empty poll (204, nothing new); light: a poll that returns one message (200). Above a bar: the side that ran out of CPU.',
      config: { type: 'bar', data: { labels, datasets: bars((v) => v.requestsPerSec) }, options: baseOptions<'bar'>({ y: axis('requests/s', false) }) },
      head: ['transport', 'poll', 'req/s', 'bound', 'clients at poll interval'],
      rows: withV.flatMap((x) =>
        x.x.map((v) => [
          x.r.transport,
          variantName(v.name, v.expectedStatus),
          fmtSig(v.requestsPerSec),
          v.bound ?? '–',
          v.maxClientsAtPollInterval !== undefined ? fmtInt(v.maxClientsAtPollInterval) : '–',
        ]),
      ),
    }),
    chartBlock({
      key: 'http-latency',
      title: 'Poll latency at saturation',
      caption: 'Per kind of poll: p50 (lighter) and p99. Closed loop: not corrected for coordinated omission.',
      config: { type: 'bar', data: { labels, datasets: latSets }, options: baseOptions<'bar'>({ y: axis('ms', false) }) },
      head: ['transport', 'poll', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
      rows: withV.flatMap((x) =>
        x.x.map((v) => [
          x.r.transport,
          variantName(v.name, v.expectedStatus),
          ...(['p50', 'p90', 'p99', 'max'] as const).map((k) => (v.latencyMs[k] !== undefined ? fmtSig(v.latencyMs[k]!) : '–')),
        ]),
      ),
    }),
  ];
}

/** Charts of older files: one headline figure per row. */
function headlineCharts(s: ScenarioResult): Block[] {
  const out: Block[] = [];
  const rps = rowsWith(s, (e) => readHttpSaturation(e)?.requestsPerSec);
  if (rps.length > 0) {
    out.push(
      chartBlock({
        key: 'http-rps',
        title: 'HTTP requests per second at saturation',
        caption: 'autocannon against each transport’s HTTP endpoint.',
        config: transportBars(
          rps.map((x) => x.r),
          rps.map((x) => x.x),
          'req/s',
        ),
        head: ['transport', 'req/s'],
        rows: rps.map((x) => [x.r.transport, fmtSig(x.x)]),
      }),
    );
  }
  const lat = rowsWith(s, (e) => readHttpSaturation(e)?.latencyMs);
  if (lat.length > 0) {
    const keys = (['p50', 'p90', 'p99', 'p999', 'mean', 'max'] as const).filter((k) => lat.some((x) => x.x[k] !== undefined));
    const shown = keys.filter((k) => k !== 'max' && k !== 'mean');
    const shades = [0.35, 0.65, 1, 1];
    const latencyOf = (l: SaturationLatency, k: (typeof keys)[number]) => l[k];
    out.push(
      chartBlock({
        key: 'http-latency',
        title: 'HTTP latency at saturation',
        caption: `Bars from light to solid: ${shown.join(', ')}.`,
        config: {
          type: 'bar',
          data: {
            labels: lat.map((x) => x.r.transport),
            datasets: shown.map((k, i) => ({
              label: k,
              data: lat.map((x) => latencyOf(x.x, k) ?? null),
              backgroundColor: lat.map((x) => alpha(transportColor(x.r.transport), shades[i] ?? 1)),
              borderColor: lat.map((x) => transportColor(x.r.transport)),
              borderWidth: 1,
            })),
          },
          options: baseOptions<'bar'>({ y: axis('ms', false) }),
        },
        head: ['transport', ...keys.map((k) => `${k} ms`)],
        rows: lat.map((x) => [x.r.transport, ...keys.map((k) => dash(latencyOf(x.x, k), fmtSig))]),
      }),
    );
  }
  return out;
}

function charts(s: ScenarioResult): Block[] {
  const withV = rowsWith(s, readSaturationVariants);
  return withV.length > 0 ? variantCharts(withV) : headlineCharts(s);
}

/** The http-saturation facet. */
export const httpSaturationFacet: ScenarioFacet = {
  loadInWords,
  rowFigure,
  reads: (s) => s.results.some((r) => readHttpSaturation(r.extra) !== undefined || readSaturationVariants(r.extra) !== undefined),
  topic: 'limits',
  findings,
  details,
  charts,
};
