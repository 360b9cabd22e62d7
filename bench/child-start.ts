/**
 * How long a run's server child takes from its fork to its first reply (its transport's server
 * listening), started from the bundle of child programs (runner/bundle.ts) and through tsx,
 * taking turns so that drift of a shared machine falls on both alike. Every run forks dozens of
 * children on its critical path, so this is the start-up a run pays per child.
 *
 *   npx tsx bench/child-start.ts [--reps 6] [--transports websocket,sse]
 */
import { list, num, parse, scriptArgs } from '../args.ts';
import { prepareChildren } from '../runner/bundle.ts';
import { Child } from '../runner/child.ts';
import type { ServerCalls, ServerEvents } from '../runner/protocol.ts';
import { median } from '../runner/repeat.ts';
import { transport, transportNames } from '../transports/index.ts';

const SERVER_CHILD = import.meta.resolve('../runner/server-child.ts');

const { a } = scriptArgs('child-start', () => {
  const { values } = parse(process.argv.slice(2), { reps: { type: 'string' }, transports: { type: 'string' } }, false);
  const names = transportNames();
  return {
    a: {
      reps: num(values.reps, 'reps', 6, { min: 1, max: 100, integer: true }),
      transports: list(values.transports, 'transports', names, ['websocket', 'sse']),
    },
  };
});

if (!(await prepareChildren())) process.exit(1);
const ms: Record<'bundle' | 'tsx', number[]> = { bundle: [], tsx: [] };
for (let i = 0; i < a.reps; i++) {
  for (const way of ['bundle', 'tsx'] as const) {
    // The switch the runner reads at every fork (runner/bundle.ts).
    if (way === 'tsx') process.env['LAB_CHILD_TSX'] = '1';
    else delete process.env['LAB_CHILD_TSX'];
    for (const name of a.transports) {
      const t0 = performance.now();
      const c = new Child<ServerCalls, ServerEvents>(`${name} server`, SERVER_CHILD);
      await c.ask({ type: 'init', transport: name, server: transport(name).server, options: {} }, 30_000);
      ms[way].push(performance.now() - t0);
      await c.kill();
    }
  }
}
for (const [way, xs] of Object.entries(ms)) {
  console.log(
    `${way.padEnd(6)} fork to ready: median ${median(xs).toFixed(0)} ms, min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)} (n ${xs.length})`,
  );
}
