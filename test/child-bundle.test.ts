/**
 * Child processes start from the run's bundle of child programs (runner/bundle.ts): a bundled
 * server and load process serve a real echo run, bundled code sees its source's paths, the
 * bundle's key follows the sources, and LAB_CHILD_TSX=1 starts them through tsx as before.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundledProgram, bundleKey, prepareChildren } from '../runner/bundle.ts';
import { importable } from '../transports/bundled.ts';
import type { Child } from '../runner/child.ts';
import { liveChildren, serverNodeFlags } from '../runner/session.ts';
import type { RunContext } from '../scenarios/contract.ts';
import { echo } from '../scenarios/echo/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// This file tries both ways of starting children itself, whatever the environment asks for.
delete process.env['LAB_CHILD_TSX'];
const base = { size: 64, warmupMs: 0, pollIntervalMs: 200, longPollTimeoutMs: 1000, headers: 'minimal' as const, loadProcesses: 1 };

/** Runs a short websocket echo and returns it with the programs its children were started as, seen once they run. */
async function echoRun(): Promise<{ state: string; error?: string; delivered: number; programs: string[] }> {
  const programs: string[] = [];
  const ctx: RunContext = {
    progress: (line) => {
      if (line.includes('connecting')) for (const c of liveChildren) programs.push((c as Child<never>).proc.spawnargs.join(' '));
    },
    signal: new AbortController().signal,
    wsClient: 'own',
  };
  const r = await echo.run('websocket', { ...base, clients: 2, ratePerClient: 20, durationMs: 600 }, ctx);
  return { state: r.state, ...(typeof r.error === 'string' && { error: r.error }), delivered: r.messages?.delivered ?? 0, programs };
}

test('a bundled server and load process serve a websocket echo run', { timeout: 60_000 }, async () => {
  const bundle = await prepareChildren();
  assert.ok(bundle, 'the child programs bundle here');
  const server = bundledProgram(import.meta.resolve('../runner/server-child.ts'));
  assert.ok(server?.file.startsWith(bundle.dir), 'the server child has its bundled file');
  // LAB_SERVER_NODE_FLAGS reaches the server processes (a flag that changes nothing measured).
  const before = process.env['LAB_SERVER_NODE_FLAGS'];
  process.env['LAB_SERVER_NODE_FLAGS'] = '--stack-trace-limit=12';
  let r: Awaited<ReturnType<typeof echoRun>>;
  try {
    r = await echoRun();
  } finally {
    if (before === undefined) delete process.env['LAB_SERVER_NODE_FLAGS'];
    else process.env['LAB_SERVER_NODE_FLAGS'] = before;
  }
  assert.equal(r.state, 'completed', r.error ?? '');
  assert.ok(r.delivered > 10, `delivered ${r.delivered}`);
  assert.ok(r.programs.length >= 2, 'server and load process seen');
  for (const p of r.programs) {
    assert.ok(p.includes(bundle.dir), `started from the bundle: ${p}`);
    assert.ok(!p.includes('tsx'), `not through tsx: ${p}`);
  }
  // Every server process, and only it, runs without V8's memory reducer (runner/session.ts).
  const servers = r.programs.filter((p) => p.includes('server-child'));
  assert.ok(servers.length > 0, r.programs.join('\n'));
  for (const p of r.programs) {
    assert.equal(p.includes('--no-memory-reducer'), servers.includes(p), p);
    assert.equal(p.includes('--stack-trace-limit=12'), servers.includes(p), p);
  }
});

test("serverNodeFlags: the lab's flags, then LAB_SERVER_NODE_FLAGS, as results.json records them", () => {
  assert.deepEqual(serverNodeFlags({}), ['--no-memory-reducer']);
  assert.deepEqual(serverNodeFlags({ LAB_SERVER_NODE_FLAGS: '  --trace-gc   --stack-trace-limit=12 ' }), [
    '--no-memory-reducer',
    '--trace-gc',
    '--stack-trace-limit=12',
  ]);
});

test('bundled code resolves paths against its source file, as under tsx', async () => {
  const bundle = await prepareChildren();
  assert.ok(bundle);
  // servers/uws.ts finds its install relative to its own URL; the registry names module URLs by theirs.
  const outcome = async (url: string) => {
    const m = (await import(url)) as { uwsInstall: () => unknown };
    try {
      return JSON.stringify(m.uwsInstall());
    } catch (e) {
      return (e as Error).message;
    }
  };
  const source = import.meta.resolve('../servers/uws.ts');
  const bundled = bundle.programs.get(source);
  assert.ok(bundled, 'servers/uws.ts is in the bundle');
  assert.equal(await outcome(pathToFileURL(bundled).href), await outcome(source));
});

test('in a bundled child a module URL maps to its bundled file, and one the bundle lacks stays a source URL', async () => {
  const bundle = await prepareChildren();
  assert.ok(bundle);
  const server = import.meta.resolve('../servers/websocket.ts');
  const toy = import.meta.resolve('./fixtures/toy/server.ts');
  assert.equal(await importable(server), server, 'outside a bundle, the source');
  process.env['LAB_CHILD_BUNDLE'] = bundle.dir;
  try {
    assert.equal(await importable(server), pathToFileURL(bundle.programs.get(server)!).href);
    assert.equal(await importable(toy), toy, 'not bundled: imported from source through tsx');
    assert.equal(typeof ((await import(await importable(toy))) as Record<string, unknown>)['createLineServer'], 'function');
  } finally {
    delete process.env['LAB_CHILD_BUNDLE'];
  }
});

test("the bundle's key changes with a source's content and with the entries", () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lab-bundle-key-'));
  try {
    writeFileSync(path.join(root, 'tsconfig.json'), '{}');
    writeFileSync(path.join(root, 'a.ts'), 'export const a = 1;\n');
    const entries = [pathToFileURL(path.join(root, 'a.ts')).href];
    const first = bundleKey(root, entries, '0.0.0');
    assert.equal(bundleKey(root, entries, '0.0.0'), first, 'the same sources, the same key');
    writeFileSync(path.join(root, 'a.ts'), 'export const a = 2;\n');
    const changed = bundleKey(root, entries, '0.0.0');
    assert.notEqual(changed, first, 'a changed source, another key');
    assert.notEqual(bundleKey(root, [...entries, pathToFileURL(path.join(root, 'b.ts')).href], '0.0.0'), changed, 'another entry, another key');
    assert.notEqual(bundleKey(root, entries, '0.0.1'), changed, 'another esbuild, another key');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('LAB_CHILD_TSX=1 starts the children through tsx, and the run is the same', { timeout: 60_000 }, async () => {
  process.env['LAB_CHILD_TSX'] = '1';
  try {
    assert.equal(await prepareChildren(), undefined);
    const r = await echoRun();
    assert.equal(r.state, 'completed', r.error ?? '');
    assert.ok(r.delivered > 10, `delivered ${r.delivered}`);
    assert.ok(r.programs.length >= 2);
    for (const p of r.programs) assert.ok(p.includes('tsx') && p.includes('.ts'), `through tsx: ${p}`);
  } finally {
    delete process.env['LAB_CHILD_TSX'];
  }
});

test('a failed build says why in one line and the children start through tsx', { timeout: 30_000 }, () => {
  // A transport whose server module does not compile, registered in a process of its own (a
  // failed build is final for its process); its file lives in the git-ignored .cache only meanwhile.
  mkdirSync(path.join(ROOT, '.cache'), { recursive: true });
  const dir = mkdtempSync(path.join(ROOT, '.cache', 'child-bundle-test-'));
  try {
    writeFileSync(path.join(dir, 'broken.ts'), 'export const = ;\n');
    const module = pathToFileURL(path.join(dir, 'broken.ts')).href;
    const code = `
import { registerTransport, transport } from ${JSON.stringify(import.meta.resolve('../transports/index.ts'))};
import { bundledProgram, prepareChildren } from ${JSON.stringify(import.meta.resolve('../runner/bundle.ts'))};
import { Child } from ${JSON.stringify(import.meta.resolve('../runner/child.ts'))};
registerTransport({ ...transport('websocket'), name: 'broken', server: { kind: 'module', module: ${JSON.stringify(module)}, export: 'x' } });
const bundle = await prepareChildren();
const again = await prepareChildren();
const program = ${JSON.stringify(import.meta.resolve('../runner/server-child.ts'))};
const c = new Child('server', program);
console.log(JSON.stringify({ bundle: bundle ?? null, again: again ?? null, bundled: bundledProgram(program) ?? null, args: c.proc.spawnargs.join(' ') }));
await c.kill(0);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { bundle: null; again: null; bundled: null; args: string };
    assert.deepEqual([out.bundle, out.again, out.bundled], [null, null, null], 'no bundle, and no second try');
    assert.match(out.args, /tsx.*server-child\.ts/, 'the child starts from its source through tsx');
    const warnings = r.stderr.split('\n').filter((l) => l.includes('bundling them failed'));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0]!, /child processes start through tsx: bundling them failed \(.*broken\.ts:1: .+\)/, 'the line names the file and the error');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
