/**
 * The layers: every import of the lab points down the list of docs/ARCHITECTURE.md, as the
 * table in test/layers.ts allows; the check fails on an import that points up; and rendering a
 * report from a results file loads no scenario run code, no runner and no server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transports } from '../transports/index.ts';
import { allowed, importsOf, LAYERS, layerOf, projectImports, violations } from './layers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

test('every import of every source file is one its layer may make', () => {
  const { files, edges } = projectImports(ROOT);
  assert.ok(files.length > 200 && edges.length > 1000, `${files.length} files, ${edges.length} imports read`);
  assert.ok(edges.some((e) => e.kind === 'type') && edges.some((e) => e.kind === 'dynamic'), 'type-only and dynamic imports are read too');
  assert.deepEqual(
    violations(edges, files).map((v) => v.line),
    [],
  );
});

test('the table allows only imports that point down its list, and names only its own layers', () => {
  const names = LAYERS.map((l) => l.name);
  assert.equal(new Set(names).size, names.length, 'layer names are unique');
  for (const [i, layer] of LAYERS.entries()) {
    if (layer.may === 'below') continue;
    for (const m of layer.may) {
      const j = names.indexOf(m);
      assert.ok(j >= 0, `${layer.name} may import "${m}", which is no layer`);
      assert.ok(j > i, `${layer.name} may import ${m}, which is above it`);
    }
  }
});

test('docs/ARCHITECTURE.md lists the layers of the table, in its order', () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const block = /## The layers\n\n```\n([\s\S]*?)\n```/.exec(doc)?.[1];
  assert.ok(block, 'the architecture notes have a layers block');
  const firstColumns = block.split('\n').map((line) => line.split(/\s{2,}/)[0]);
  assert.deepEqual(
    firstColumns,
    LAYERS.map((l) => l.name),
  );
});

test('an import that points up fails the check: value, type-only, re-export and dynamic alike', () => {
  const { files, edges } = projectImports(ROOT);
  const upward = [
    // The cycle the results schema once made: the schema naming the registry.
    ['metrics/results.ts', "import { transport } from '../transports/index.ts';\n"],
    ['servers/contract.ts', "import type { TransportDescriptor } from '../transports/descriptor.ts';\n"],
    ['report-model/format.ts', "export { Session } from '../runner/session.ts';\n"],
    ['transports/load.ts', "const b = await import('../runner/bundle.ts');\n"],
    // The report's facets loading a scenario's run.
    ['scenarios/push/facet.ts', "import { push } from './index.ts';\n"],
    ['reports/build.ts', "import { SCENARIOS } from '../scenarios/index.ts';\n"],
  ] as const;
  for (const [file, line] of upward) {
    const text = line + readFileSync(path.join(ROOT, file), 'utf8');
    const changed = [...edges.filter((e) => e.from !== file), ...importsOf(file, text)];
    const found = violations(changed, files).map((v) => v.line);
    assert.equal(found.length, 1, `${file}: ${line.trim()} → ${found.join('; ')}`);
    assert.match(found[0]!, new RegExp(`^${file.replace(/[.]/g, '\\.')} \\(${layerOf(file)!.name.replace(/[()]/g, '\\$&')}\\) imports`));
  }
  // A new folder nobody placed is named too.
  assert.deepEqual(
    violations([], ['grpc/server.ts']).map((v) => v.line),
    ["grpc/server.ts belongs to no layer: add it to a layer's files in test/layers.ts"],
  );
});

test('a file belongs to the layer of its most specific pattern: a scenario facet is not its run', () => {
  assert.equal(layerOf('scenarios/push/facet.ts')!.name, 'scenarios/ (facets)');
  assert.equal(layerOf('scenarios/push/schema.ts')!.name, 'scenarios/ (facets)');
  assert.equal(layerOf('scenarios/push/index.ts')!.name, 'scenarios/ (runs)');
  assert.equal(layerOf('scenarios/dead-peer/peer-child.ts')!.name, 'scenarios/ (runs)');
  assert.equal(layerOf('scenarios/index.ts')!.name, 'scenarios/ (runs)');
  assert.equal(layerOf('scenarios/contract.ts')!.name, 'scenarios/ (runs)');
  assert.equal(layerOf('scenarios/facet-kit.ts')!.name, 'scenarios/ (facets)');
  assert.equal(layerOf('scenarios/facets.ts')!.name, 'scenarios/ (facets)');
  assert.ok(allowed(layerOf('scenarios/push/index.ts')!).has('scenarios/ (facets)'));
  assert.ok(!allowed(layerOf('reports/build.ts')!).has('scenarios/ (runs)'));
});

/**
 * Runs `node [--import tsx] <args>` with a load hook that records every module the process loads
 * (a URL only resolved, as the registry's module URLs are, is not loaded). The hook is registered
 * first, so tsx's hooks, registered after it, run first and hand every module on to it.
 */
async function recordLoads(args: string[], withTsx: boolean): Promise<{ code: number; stdout: string; stderr: string; loaded: string[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-layers-'));
  try {
    const list = path.join(dir, 'loaded.txt');
    writeFileSync(list, '');
    writeFileSync(
      path.join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, next) { appendFileSync(file, url + '\\n'); return next(url, context); }`,
    );
    writeFileSync(
      path.join(dir, 'preload.mjs'),
      `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)}, { data: { file: ${JSON.stringify(list)} } });`,
    );
    const node = ['--import', pathToFileURL(path.join(dir, 'preload.mjs')).href, ...(withTsx ? ['--import', 'tsx'] : []), ...args];
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, node, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (e, stdout, stderr) =>
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
      ),
    );
    return { ...r, loaded: readFileSync(list, 'utf8').split('\n').filter(Boolean) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs an ES module's text in a child through tsx, recording what it loads. */
async function inChild(body: string): Promise<{ stdout: string; loaded: string[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-layers-child-'));
  try {
    const file = path.join(dir, 'child.mjs');
    writeFileSync(file, body);
    const r = await recordLoads([file], true);
    assert.equal(r.code, 0, r.stderr);
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The project files among loaded module URLs, relative to the project. */
function projectFiles(urls: string[]): string[] {
  const root = pathToFileURL(ROOT).href;
  return urls.filter((u) => u.startsWith(root) && !u.includes('/node_modules/')).map((u) => u.slice(root.length).replace(/^\//, ''));
}

test('rendering a report from a results file loads no scenario run code, no runner and no server', { timeout: 60_000 }, async () => {
  const fixture = path.join(ROOT, 'test', 'fixtures', 'results-real.json');
  const out = await inChild(`
const { reportCommand } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'reports', 'cli.ts')).href)});
let text = '';
const codes = [];
for (const format of ['md', 'text']) codes.push(await reportCommand([${JSON.stringify(fixture)}, '--format', format], { stdout: (s) => (text += s), stderr: (s) => (text += s) }));
process.stdout.write(JSON.stringify({ codes, length: text.length }));`);
  const r = { ...(JSON.parse(out.stdout) as { codes: number[]; length: number }), loaded: out.loaded };
  assert.deepEqual(r.codes, [0, 0]);
  assert.ok(r.length > 10_000, 'a report was printed');
  const files = projectFiles(r.loaded);
  assert.ok(files.includes('reports/build.ts') && files.includes('scenarios/facets.ts') && files.includes('scenarios/push/facet.ts'), files.join(' '));
  const runCode = files.filter((f) => layerOf(f)?.name === 'scenarios/ (runs)' || f.startsWith('runner/') || f.startsWith('cluster/'));
  assert.deepEqual(runCode, [], 'modules of scenario runs, the runner or the cluster loaded by the report');
  // The registry names its servers and clients by URL; the report loads none of them, nor what they share.
  const transportCode = new Set(transports().flatMap((d) => [d.server.module, d.client.module]));
  for (const shared of ['servers/base.ts', 'servers/hub.ts', 'servers/http-front.ts', 'clients/http-base.ts'])
    transportCode.add(pathToFileURL(path.join(ROOT, shared)).href);
  assert.deepEqual(
    r.loaded.filter((u) => transportCode.has(u)),
    [],
  );
  assert.deepEqual(
    r.loaded.filter((u) => /\/node_modules\/(express|undici|ws|socket\.io|redis)\//.test(u)),
    [],
    'no HTTP framework, WebSocket library or Redis client',
  );
});

test('the results schema loads no registry and no HTTP framework', { timeout: 60_000 }, async () => {
  const out = await inChild(`
const { ResultsSchema } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'metrics', 'results.ts')).href)});
if (!ResultsSchema) throw new Error('no schema');`);
  const loaded = out.loaded;
  assert.ok(loaded.some((u) => u.endsWith('/metrics/results.ts')));
  assert.deepEqual(
    projectFiles(loaded).filter((f) => !f.startsWith('metrics/')),
    [],
  );
  assert.deepEqual(
    loaded.filter((u) => /\/node_modules\/(express|undici|ws|socket\.io)\//.test(u)),
    [],
  );
});

test('the transport-lab command renders a report without loading run.ts, a scenario run or the runner', { timeout: 60_000 }, async () => {
  const fixture = path.join(ROOT, 'test', 'fixtures', 'results-real.json');
  // The launcher registers tsx itself.
  const out = await recordLoads([path.join(ROOT, 'bin', 'transport-lab.js'), 'report', fixture, '--format', 'md'], false);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^## transport-lab results$/m, 'a Markdown report was printed');
  const files = projectFiles(out.loaded);
  assert.ok(files.includes('reports/cli.ts') && files.includes('scenarios/facets.ts'), files.join(' '));
  assert.deepEqual(
    files.filter((f) => f === 'run.ts' || f.startsWith('runner/') || f.startsWith('cluster/') || layerOf(f)?.name === 'scenarios/ (runs)'),
    [],
  );
});
