/** The failover scenario's part of the report: recovery and loss per row and mode, the storm's cost, and a timeline per row. */
import type { ScenarioResult, TransportResult } from '../../metrics/results.ts';
import { axis, baseOptions, chartBlock, GREY, LOST, lineDataset, transportLine, type XY } from '../../report-model/charts.ts';
import type { Block, Finding } from '../../report-model/doc.ts';
import type { ScenarioFacet } from '../../report-model/facet.ts';
import { fmtBytes, fmtDuration, fmtInt, fmtSig, listInWords } from '../../report-model/format.ts';
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
function runsOf(s: ScenarioResult): { r: TransportResult; x: FailoverExtra; run: FailoverRun }[] {
  return rowsWith(s, readFailover).flatMap(({ r, x }) => x.runs.map((run) => ({ r, x, run })));
}

function findings(s: ScenarioResult): Finding[] {
  const all = runsOf(s);
  if (all.length === 0) return [];
  const out: Finding[] = [];
  const keys = [...new Set(all.map(({ run }) => `${run.mode} ${run.clients}`))];
  for (const key of keys) {
    const here = all.filter(({ run }) => `${run.mode} ${run.clients}` === key);
    const { mode, clients } = here[0]!.run;
    const whole = here.filter(({ run }) => run.lost === 0 && run.duplicates === 0 && run.recovery.p100Ms !== null);
    whole.sort((a, b) => a.run.recovery.p100Ms! - b.run.recovery.p100Ms!);
    const losing = here.filter(({ run }) => run.lost > 0);
    if (whole.length)
      out.push({
        level: 'info',
        scenario: s.name,
        topic: 'liveness',
        text: `${s.name} (${mode}, ${fmtInt(clients)} clients): nothing lost and every client back on ${listInWords(
          whole.slice(0, 4).map(({ r, run }) => `${r.transport} in ${fmtDuration(run.recovery.p100Ms!)}`),
        )}${whole.length > 4 ? ` and ${whole.length - 4} more` : ''}; fastest first.`,
      });
    if (losing.length)
      out.push({
        level: 'warn',
        scenario: s.name,
        topic: 'liveness',
        text: `${s.name} (${mode}, ${fmtInt(clients)} clients): messages lost on ${listInWords(
          losing.map(
            ({ r, x, run }) =>
              `${r.transport} (${fmtInt(run.lost)} of ${fmtInt(run.owed)}, ${fmtInt(run.clientsLosing)} clients; ${x.reconnect}${x.resumes ? '' : ', no resume'})`,
          ),
        )}: a client that comes back without asking for what it missed loses what was published while it was away.`,
      });
    // What jitter buys: the same server with clients that come back at once against spread ones.
    const byReconnect = (name: string) => here.filter(({ x }) => x.reconnect === name && !x.resumes);
    const now = byReconnect('immediate');
    const spread = [...byReconnect('exponential'), ...byReconnect('full-jitter')];
    if (now.length && spread.length) {
      const words = (xs: typeof here) =>
        listInWords(
          xs.map(({ r, run }) =>
            joinParts(
              `${r.transport}`,
              run.listenOverflows !== undefined && `${fmtInt(run.listenOverflows)} listen overflows`,
              run.stormPeakCpuPct !== undefined && `peak server CPU ${fmtSig(run.stormPeakCpuPct)} %`,
              `all back in ${backText(run.recovery.p100Ms)}`,
            ),
          ),
        );
      out.push({
        level: 'info',
        scenario: s.name,
        topic: 'limits',
        text: `${s.name} (${mode}, ${fmtInt(clients)} clients): reconnecting at once — ${words(now)}; spread by backoff and jitter — ${words(spread)}.`,
      });
    }
  }
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
        'Lost and duplicates: counted per client by sequence number over every message published (1…N, no hole), whatever the client did meanwhile; for a row that resumes, lost means not delivered within 45 s of the last message published.',
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
