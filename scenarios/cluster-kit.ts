/**
 * The report's comparison of node counts (`--nodes`): for each transport run as N nodes on the
 * Redis backplane, its figures beside the one-process row (no Redis), with each node's, the
 * balancer's and Redis's CPU. Facets of scenarios whose rows carry `extra.cluster` use it.
 */
import { z } from 'zod';
import type { ScenarioResult, TransportResult } from '../metrics/results.ts';
import type { Block, Finding } from '../report-model/doc.ts';
import { fmtFixed, fmtInt, fmtSig, isCompleted, num, orderedRows } from '../report-model/format.ts';
import { transportByName } from '../transports/index.ts';
import { detailTable } from './facet-kit.ts';
import { listOf, readWith } from './read.ts';

/** What a clustered row's `extra.cluster` holds (runner/protocol.ts ClusterTotals). */
const ClusterSchema = z.object({
  /** Each node's CPU over the measured phase. */
  nodes: listOf(z.object({ pid: z.number(), cpuMs: z.number(), cpuPct: z.number(), rssMaxBytes: z.number(), connectionsOpen: z.number(), alive: z.boolean() })),
  /** The cluster primary: accepts and hands over connections, publishes the bench's messages. */
  balancer: z.object({ cpuMs: z.number(), cpuPct: z.number() }),
  /** The Redis server's CPU. */
  redis: z.object({ cpuMs: z.number(), cpuPct: z.number() }),
});

/** The cluster block of a row's `extra`, or undefined. */
function readCluster(extra: unknown): z.output<typeof ClusterSchema> | undefined {
  return readWith(ClusterSchema, (extra as { cluster?: unknown } | undefined)?.cluster);
}

/** Server CPU per delivered message, µs (the whole service: nodes and balancer, Redis not included). */
function cpuPerMessageUs(r: TransportResult): number | undefined {
  const cpu = num(r.server?.cpuMs);
  const delivered = num(r.messages?.delivered);
  return cpu !== undefined && delivered ? (cpu * 1000) / delivered : undefined;
}

/** The one-process rows that have clustered rows in this scenario, each with its clustered rows by node count. */
function groups(s: ScenarioResult): { base: TransportResult | undefined; name: string; clustered: { n: number; r: TransportResult }[] }[] {
  const rows = orderedRows(s.results);
  const out = new Map<string, { n: number; r: TransportResult }[]>();
  for (const r of rows) {
    const d = transportByName(r.transport);
    if (d?.nodes === undefined || !d.clusterOf) continue;
    const list = out.get(d.clusterOf) ?? [];
    list.push({ n: d.nodes, r });
    out.set(d.clusterOf, list);
  }
  return [...out].map(([name, clustered]) => ({ name, base: rows.find((r) => r.transport === name), clustered: clustered.sort((a, b) => a.n - b.n) }));
}

/**
 * The node-count table: per transport, the one-process row and each node count: p50/p99,
 * delivered/s, CPU per node, of the balancer and of Redis, and server CPU per message.
 */
export function clusterBlocks(s: ScenarioResult): Block[] {
  const gs = groups(s);
  if (gs.length === 0) return [];
  const rows: string[][] = [];
  for (const g of gs) {
    const line = (label: string, nodes: string, r: TransportResult | undefined): string[] => {
      if (!r || !isCompleted(r)) return [label, nodes, '–', '–', '–', '–', '–', '–', '–'];
      const c = readCluster(r.extra);
      const per = cpuPerMessageUs(r);
      return [
        label,
        nodes,
        r.latencyMs ? fmtSig(r.latencyMs.p50) : '–',
        r.latencyMs ? fmtSig(r.latencyMs.p99) : '–',
        r.throughput ? fmtInt(r.throughput.messagesPerSec) : '–',
        c ? c.nodes.map((x) => (x.alive ? fmtFixed(x.cpuPct, 0) : 'died')).join(' / ') : fmtFixed(num(r.server?.cpuPct) ?? 0, 0),
        c ? fmtFixed(c.balancer.cpuPct, 0) : '–',
        c ? fmtFixed(c.redis.cpuPct, 1) : '–',
        per !== undefined ? fmtSig(per) : '–',
      ];
    };
    rows.push(line(g.name, '1, no Redis', g.base));
    for (const { n, r } of g.clustered) rows.push(line(r.transport, String(n), r));
  }
  return [
    detailTable(
      `${s.name}-nodes`,
      'Server nodes on the Redis backplane, against one process without it',
      ['row', 'nodes', 'p50 ms', 'p99 ms', 'delivered/s', 'CPU % per node', 'balancer CPU %', 'Redis CPU %', 'server CPU µs/msg'],
      [true, true, false, false, false, true, false, false, false],
      rows,
      [
        'Nodes sit behind node’s cluster balancer (the primary accepts and hands connections round-robin); every publish goes through one Redis Stream, which every node reads.',
        'Figures are of the last measured step; "server CPU µs/msg" counts the nodes and the balancer, not Redis. CPU % is of one core.',
      ],
    ),
  ];
}

/** One finding per transport: what the backplane costs at one node, and how the node counts compare. */
export function clusterFindings(s: ScenarioResult): Finding[] {
  const out: Finding[] = [];
  for (const g of groups(s)) {
    const one = g.clustered.find((c) => c.n === 1)?.r ?? g.clustered[0]?.r;
    const base = g.base;
    if (!base || !one || !isCompleted(base) || !isCompleted(one) || !base.latencyMs || !one.latencyMs) continue;
    const parts = [
      `p99 ${fmtSig(base.latencyMs.p99)} ms in one process, ${fmtSig(one.latencyMs.p99)} ms through Redis on ${transportByName(one.transport)?.nodes ?? 1} node(s)`,
    ];
    const a = cpuPerMessageUs(base);
    const b = cpuPerMessageUs(one);
    if (a !== undefined && b !== undefined) parts.push(`server CPU ${fmtSig(a)} → ${fmtSig(b)} µs per delivered message`);
    const more = g.clustered.filter((c) => c.r !== one && isCompleted(c.r) && c.r.latencyMs);
    if (more.length) parts.push(`at ${more.map((c) => `${c.n} nodes p99 ${fmtSig(c.r.latencyMs!.p99)} ms`).join(', ')}`);
    out.push({ level: 'info', scenario: s.name, text: `${s.name}/${g.name} on the Redis backplane: ${parts.join('; ')}.` });
  }
  return out;
}
