/** The failover scenario's part of the report: recovery and loss per row and mode, the storm's cost, and a timeline per row. */
import type { ScenarioResult, TransportResult } from '../../metrics/results.ts';
import { axis, baseOptions, chartBlock, GREY, LOST, lineDataset, transportLine, type XY } from '../../report-model/charts.ts';
import type { Block, Finding } from '../../report-model/doc.ts';
import type { ScenarioFacet } from '../../report-model/facet.ts';
import { fmtBytes, fmtDuration, fmtInt, fmtNum, fmtSig, listInWords } from '../../report-model/format.ts';
import { detailTable, joinParts, param, rowsWith, sizeText } from '../facet-kit.ts';
import { type FailoverExtra, type FailoverRun, readFailover } from './schema.ts';

const dash = '–';

/** A recovery time, or "not all back" when that share never came back. */
function backText(ms: number | null): string {
  return ms === null ? 'not back' : fmtDuration(ms);
}

/** A failover mode in words. */
function modeInWords(mode: string, downMs: number): string {
  switch (mode) {
    case 'crash':
      return `a crash (SIGKILL, started again ${fmtDuration(downMs)} later)`;
    case 'graceful':
      return 'a graceful restart (goodbye, then a new process)';
    case 'rolling':
      return 'with --nodes, a rolling restart (node by node)';
    case 'node-crash':
      return 'with --nodes, one node killed';
    default:
      return mode;
  }
}

function loadInWords(s: ScenarioResult): string | undefined {
  const rate = param(s, 'rate');
  const counts = s.params['clientCounts'];
  const modes = s.params['modes'];
  if (rate === undefined || !Array.isArray(counts) || !Array.isArray(modes)) return undefined;
  const down = param(s, 'downMs');
  return joinParts(
    `${listInWords(counts.map((n) => fmtInt(Number(n))))} subscribers`,
    `${fmtSig(rate)} msg/s published`,
    sizeText(s),
    `then ${listInWords(modes.map((m) => modeInWords(String(m), down ?? 0)))}`,
  );
}

function loadNote(): string {
  return 'The server keeps its messages in a log outside its process, so the one that comes back has the history of the one that went; loss and duplicates are counted per client by sequence number, over every message published.';
}

/** The row's figure: loss and full recovery of each run. */
function rowFigure(row: TransportResult): string {
  const x = readFailover(row.extra);
  if (!x) return '';
  return x.runs
    .map(
      (r) =>
        `${r.mode}: lost ${fmtInt(r.lost)}, ${r.recovery.p100Ms === null ? `${fmtInt(r.recovery.back)} of ${fmtInt(r.recovery.of)} back` : `all back in ${fmtDuration(r.recovery.p100Ms)}`}`,
    )
    .join('; ');
}

/** Every run of every row, with its row. */
function runsOf(s: ScenarioResult): Run[] {
  return rowsWith(s, readFailover).flatMap(({ r, x }) => x.runs.map((run) => ({ r, x, run })));
}

type Run = { r: TransportResult; x: FailoverExtra; run: FailoverRun };

const mean = (xs: readonly number[]): number => xs.reduce((a, v) => a + v, 0) / xs.length;

/** Nothing lost, nothing duplicated, every client back. */
const whole = ({ run }: Run): boolean => run.lost === 0 && run.duplicates === 0 && run.recovery.p100Ms !== null;

/** Which rows came back whole, fastest first, naming the fastest. */
function fastestFinding(name: string, where: string, here: Run[]): Finding | undefined {
  const ok = here.filter(whole).sort((a, b) => a.run.recovery.p100Ms! - b.run.recovery.p100Ms!);
  const first = ok[0];
  if (!first) return undefined;
  const rest = ok.slice(1, 4).map(({ r, run }) => `${r.transport} in ${fmtDuration(run.recovery.p100Ms!)}`);
  return {
    level: 'info',
    scenario: name,
    topic: 'liveness',
    text: joinParts(
      `${name} (${where}): ${first.r.transport} recovers fastest with nothing lost — every client back in ${fmtDuration(first.run.recovery.p100Ms!)} (half in ${backText(first.run.recovery.p50Ms)})`,
      rest.length > 0 && `then ${listInWords(rest)}${ok.length > 4 ? ` and ${ok.length - 4} more` : ''}`,
    ).concat('.'),
  };
}

/** The WebSocket policies compared on what a reconnect storm costs, each averaged over the rows that use it without resuming. */
const POLICIES = ['immediate', 'exponential', 'full-jitter'] as const;

/** What jitter buys: clients that come back at once against clients spread by backoff, on listen overflows, peak CPU and recovery. */
function jitterFinding(name: string, where: string, here: Run[]): Finding | undefined {
  const of = (policy: string) => here.filter(({ x }) => x.reconnect === policy && !x.resumes);
  const now = of('immediate');
  if (now.length === 0 || !POLICIES.slice(1).some((p) => of(p).length > 0)) return undefined;
  const figures = (xs: Run[]) => {
    const overflows = xs.flatMap(({ run }) => (run.listenOverflows === undefined ? [] : [run.listenOverflows]));
    const cpu = xs.flatMap(({ run }) => (run.stormPeakCpuPct === undefined ? [] : [run.stormPeakCpuPct]));
    const back = xs.map(({ run }) => run.recovery.p100Ms);
    return {
      overflows: overflows.length ? mean(overflows) : undefined,
      cpu: cpu.length ? mean(cpu) : undefined,
      back: back.every((b): b is number => b !== null) ? mean(back) : null,
    };
  };
  const base = figures(now);
  const parts = POLICIES.flatMap((policy) => {
    const xs = of(policy);
    if (xs.length === 0) return [];
    const f = figures(xs);
    return [
      `${policy} (${listInWords(xs.map(({ r }) => r.transport))}): ${joinParts(
        f.overflows !== undefined && `${fmtInt(Math.round(f.overflows))} listen overflows`,
        f.cpu !== undefined && `peak server CPU ${fmtNum(f.cpu)} %`,
        f.back === null ? 'not all back' : `all back in ${fmtDuration(f.back)}`,
      )}`,
    ];
  });
  const against = POLICIES.slice(1).flatMap((policy) => {
    const xs = of(policy);
    if (xs.length === 0) return [];
    const f = figures(xs);
    const fewer = (d: number) => (Math.round(d) === 0 ? 'as many' : `${fmtInt(Math.abs(Math.round(d)))} ${d > 0 ? 'fewer' : 'more'}`);
    const bits = [
      f.overflows !== undefined && base.overflows !== undefined && `${fewer(base.overflows - f.overflows)} listen overflows`,
      f.cpu !== undefined && base.cpu !== undefined && `peak CPU ${fmtNum(Math.abs(base.cpu - f.cpu))} points ${base.cpu >= f.cpu ? 'lower' : 'higher'}`,
      f.back !== null && base.back !== null && `every client back ${fmtDuration(Math.abs(f.back - base.back))} ${f.back <= base.back ? 'sooner' : 'later'}`,
    ];
    return bits.some(Boolean) ? [`${policy} ${joinParts(...bits)}`] : [];
  });
  return {
    level: 'info',
    scenario: name,
    topic: 'limits',
    text: `${name} (${where}), what jitter buys (means over the rows of each policy): ${parts.join('; ')}.${
      against.length ? ` Against immediate: ${listInWords(against)}.` : ''
    }`,
  };
}

/** A run's cost in a few words: loss, recovery, listen overflows, latency after. */
function costInWords(run: FailoverRun): string {
  return joinParts(
    `lost ${fmtInt(run.lost)} of ${fmtInt(run.owed)}`,
    run.recovery.p100Ms === null ? `${fmtInt(run.recovery.back)} of ${fmtInt(run.recovery.of)} back` : `all back in ${fmtDuration(run.recovery.p100Ms)}`,
    run.recovery.kept !== undefined && `${fmtInt(run.recovery.kept)} never cut`,
    run.listenOverflows !== undefined && `${fmtInt(run.listenOverflows)} listen overflows`,
    run.afterP99Ms !== undefined && `p99 after ${fmtNum(run.afterP99Ms)} ms`,
  );
}

/** What a rolling restart costs behind the Redis backplane, against one node killed and against the single process's crash. */
function rollingFindings(name: string, all: Run[]): Finding[] {
  return all
    .filter(({ x, run }) => run.mode === 'rolling' && x.clusterOf !== undefined)
    .map(({ r, x, run }) => {
      const sameClients = (o: Run) => o.run.clients === run.clients;
      const nodeCrash = all.find((o) => o.r.transport === r.transport && o.run.mode === 'node-crash' && sameClients(o));
      const crash = all.find((o) => o.r.transport === x.clusterOf && o.run.mode === 'crash' && sameClients(o));
      return {
        level: run.lost > 0 ? 'warn' : 'info',
        scenario: name,
        topic: 'liveness',
        text: [
          `${name} (${fmtInt(run.clients)} clients): ${r.transport}'s rolling restart behind the Redis backplane took ${fmtDuration((run.upAtS - run.downAtS) * 1000)}: ${costInWords(run)}`,
          nodeCrash && `one node killed: ${costInWords(nodeCrash.run)}`,
          crash && `${x.clusterOf} as one process through a crash: ${costInWords(crash.run)}`,
        ]
          .filter(Boolean)
          .join('; ')
          .concat('.'),
      };
    });
}

function findings(s: ScenarioResult): Finding[] {
  const all = runsOf(s);
  if (all.length === 0) return [];
  const out: Finding[] = [];
  const keys = [...new Set(all.map(({ run }) => `${run.mode} ${run.clients}`))];
  for (const key of keys) {
    const here = all.filter(({ run }) => `${run.mode} ${run.clients}` === key);
    const { mode, clients } = here[0]!.run;
    const where = `${mode}, ${fmtInt(clients)} clients`;
    const fastest = fastestFinding(s.name, where, here);
    if (fastest) out.push(fastest);
    const losing = here.filter(({ run }) => run.lost > 0);
    if (losing.length)
      out.push({
        level: 'warn',
        scenario: s.name,
        topic: 'liveness',
        text: `${s.name} (${where}): messages lost on ${listInWords(
          losing.map(
            ({ r, x, run }) =>
              `${r.transport} (${fmtInt(run.lost)} of ${fmtInt(run.owed)}, ${fmtInt(run.clientsLosing)} clients; ${x.reconnect}${x.resumes ? '' : ', no resume'})`,
          ),
        )}: a client that comes back without asking for what it missed loses what was published while it was away.`,
      });
    const jitter = jitterFinding(s.name, where, here);
    if (jitter) out.push(jitter);
  }
  out.push(...rollingFindings(s.name, all));
  return out;
}

function details(s: ScenarioResult): Block[] {
  const all = runsOf(s);
  if (all.length === 0) return [];
  return [
    detailTable(
      'failover-recovery',
      'Recovery and loss per row and failover',
      [
        'transport',
        'failover',
        'clients',
        'reconnect',
        'back 50 %',
        'back 99 %',
        'back 100 %',
        'lost',
        'clients losing',
        'duplicates',
        'listen overflows / drops',
        'storm peak CPU',
        'storm peak RSS',
        'p99 after',
      ],
      [true, true, false, true, false, false, false, false, false, false, false, false, false, false],
      all.map(({ r, x, run }) => [
        r.transport,
        run.mode === 'crash' ? `crash, down ${fmtDuration(run.downMs)}` : `${run.mode}${run.goodbyeCut ? ' (goodbye cut after 15 s)' : ''}`,
        fmtInt(run.clients),
        `${x.reconnect}${x.resumes ? ', resumes' : ''}`,
        backText(run.recovery.p50Ms),
        backText(run.recovery.p99Ms),
        run.recovery.p100Ms === null ? `${fmtInt(run.recovery.back)} of ${fmtInt(run.recovery.of)} back` : fmtDuration(run.recovery.p100Ms),
        `${fmtInt(run.lost)} of ${fmtInt(run.owed)}`,
        fmtInt(run.clientsLosing),
        fmtInt(run.duplicates),
        run.listenOverflows !== undefined && run.listenDrops !== undefined ? `${fmtInt(run.listenOverflows)} / ${fmtInt(run.listenDrops)}` : dash,
        run.stormPeakCpuPct !== undefined ? `${fmtSig(run.stormPeakCpuPct)} %` : dash,
        run.stormPeakRssBytes !== undefined ? fmtBytes(run.stormPeakRssBytes) : dash,
        run.afterP99Ms !== undefined ? `${fmtSig(run.afterP99Ms)} ms` : dash,
      ]),
      [
        'Back: time from the moment the server began to go until that share of the clients had a working connection again (a stream or WebSocket open, a poll answered); with --nodes, a client a surviving node kept connected counts as back at once. Rolling: from the first node going.',
        'Lost and duplicates: counted per client by sequence number over every message published (1…N, no hole), whatever the client did meanwhile; for a row that resumes, lost means not delivered within 45 s plus 6 ms per client (105 s at 10,000) of the last message published.',
        'Listen overflows / drops: the kernel’s ListenOverflows and ListenDrops (/proc/net/netstat) over the run; they count for the whole host.',
        'Storm peak: the new server’s highest CPU (% of one core) and RSS in its first 10 s. p99 after: delivery latency, from the intended send time, of the messages published in the 10 s after the server was back.',
      ],
    ),
  ];
}

/** A vertical marker line from 0 to `top` at `x`, in the connected-clients axis. */
function marker(label: string, x: number, top: number, color: string): ReturnType<typeof lineDataset> {
  return lineDataset(
    label,
    color,
    [
      { x, y: 0 },
      { x, y: top },
    ],
    [4, 4],
    { pointRadius: 0, borderWidth: 1.5, yAxisID: 'y' },
  );
}

function charts(s: ScenarioResult): Block[] {
  return runsOf(s)
    .filter(({ run }) => run.timeline.length > 1)
    .map(({ r, run }) => {
      const connected: XY[] = run.timeline.map((p) => ({ x: p.t, y: p.connected }));
      const rate: XY[] = run.timeline.map((p) => ({ x: p.t, y: p.deliveredPerSec }));
      const top = Math.max(run.clients, ...connected.map((p) => p.y));
      const how = run.mode === 'crash' ? `crash (down ${fmtDuration(run.downMs)})` : run.mode === 'graceful' ? 'graceful restart' : `${run.mode} (nodes)`;
      const what = `${r.transport}, ${how}, ${fmtInt(run.clients)} clients`;
      return chartBlock({
        key: 'failover-timeline',
        title: `Timeline: ${what}`,
        caption: `Clients connected (left axis) and owed messages delivered per second (right axis), every half second; the dashed lines mark the server going (${fmtSig(run.downAtS)} s) and its successor listening (${fmtSig(run.upAtS)} s). Lost: ${fmtInt(run.lost)} of ${fmtInt(run.owed)}.`,
        config: {
          type: 'scatter',
          data: {
            datasets: [
              transportLine(r, connected, 'clients connected', { yAxisID: 'y', pointRadius: 0 }),
              lineDataset('deliveries per second', GREY, rate, [], { yAxisID: 'y2', pointRadius: 0, borderWidth: 1.5 }),
              marker('server goes', run.downAtS, top, LOST),
              marker('server back', run.upAtS, top, GREY),
            ],
          },
          options: baseOptions<'scatter'>({
            x: axis('seconds since publishing began', false),
            // Headroom on both axes keeps the two lines apart when both sit at their steady values.
            y: axis('clients connected', false, { position: 'left', suggestedMax: Math.ceil(top * 1.1) }),
            y2: axis('deliveries per second', false, {
              position: 'right',
              grid: { drawOnChartArea: false },
              suggestedMax: Math.ceil(Math.max(1, ...rate.map((p) => p.y)) * 1.3),
            }),
          }),
        },
        head: ['t (s)', 'clients connected', 'deliveries/s', 'server CPU %', 'server RSS'],
        rows: run.timeline.map((p) => [
          fmtSig(p.t),
          fmtInt(p.connected),
          fmtInt(p.deliveredPerSec),
          p.serverCpuPct !== undefined ? fmtSig(p.serverCpuPct) : dash,
          p.serverRssBytes !== undefined ? fmtBytes(p.serverRssBytes) : dash,
        ]),
      });
    });
}

export const failoverFacet: ScenarioFacet = {
  loadInWords,
  loadNote,
  rowFigure,
  sideBySide: () => false,
  topic: 'liveness',
  findings,
  details,
  charts,
};
