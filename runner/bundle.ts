/**
 * The child programs of a run, bundled. A child started through tsx spends most of its start-up
 * compiling, and a run forks dozens (servers, load processes, peers, autocannon, cluster nodes),
 * most of them on its critical path. So at the start of a run the programs are bundled once with
 * esbuild into plain JavaScript that `node` starts without compiling (the times are in
 * docs/MEASUREMENTS.md); the bundle is kept in node_modules/.cache, keyed by a hash of the
 * sources, so the next run with the same sources starts at once.
 *
 * Entries are every module a child runs or imports by URL: the child programs, the cluster
 * node, and the server and client module of every registered transport. With code splitting a
 * module shared between a child program and a transport's module is one instance, as under
 * tsx. A source's `import.meta.url`, `.dirname`, `.filename` and relative `.resolve(...)` keep
 * naming the source file (not the chunk it ends up in), so paths relative to it (scripts,
 * captured headers, caches, the registry's module URLs) mean what they mean under tsx.
 *
 * A child started from the bundle finds the bundle through LAB_CHILD_BUNDLE and maps a source
 * URL it is asked to import to its bundled file (`importable`). If bundling fails the run says
 * why in one line and its children start through tsx as before; LAB_CHILD_TSX=1 asks for that.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transports } from '../transports/index.ts';
import { BUNDLE_ENV, type ChildBundle, MANIFEST, type Manifest, normal, readBundle } from '../transports/bundled.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where bundles are kept: inside the project, so bare package imports in them resolve to its node_modules. */
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'transport-lab', 'children');
/** Directories that hold no source of a child program. */
const NOT_SOURCES = new Set(['node_modules', 'test-output', 'out', '.git', '.cache']);

/** The child programs the runner and the scenarios fork, besides those the registry names. */
function childPrograms(): string[] {
  const fixed = ['runner/server-child.ts', 'runner/load-child.ts', 'cluster/primary-child.ts', 'cluster/node.ts'].map((f) => path.join(ROOT, f));
  const scenarios = path.join(ROOT, 'scenarios');
  const own = readdirSync(scenarios, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(path.join(scenarios, d.name))
        .filter((f) => f.endsWith('-child.ts'))
        .map((f) => path.join(scenarios, d.name, f)),
    );
  return [...fixed, ...own].map((f) => pathToFileURL(f).href);
}

/** Every module URL a child may be asked to import: the registry's servers and clients (those in this project; others load from source). */
function registryModules(): string[] {
  return transports()
    .flatMap((d) => [d.server.module, d.client.module])
    .filter((u) => {
      if (!u.startsWith('file:')) return false;
      const rel = path.relative(ROOT, fileURLToPath(u));
      return !rel.startsWith('..') && !path.isAbsolute(rel) && !rel.split(path.sep).includes('node_modules');
    });
}

/** Every `.ts` file under `dir`, build output and dependencies left out, sorted. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (NOT_SOURCES.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

/**
 * The key of a bundle: the project's place (bundled code names its source files), the entries,
 * esbuild's version, tsconfig.json and the content of every `.ts` file under `root`; any change
 * to a source gives another key, so a stale bundle is never started.
 */
export function bundleKey(root: string, entries: readonly string[], esbuildVersion: string): string {
  const h = createHash('sha256');
  h.update(`${root}\0${esbuildVersion}\0${[...entries].sort().join('\n')}\0`);
  const tsconfig = path.join(root, 'tsconfig.json');
  if (existsSync(tsconfig)) h.update(readFileSync(tsconfig));
  for (const f of sources(root)) {
    h.update(`\0${path.relative(root, f)}\0`);
    h.update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 20);
}

/**
 * Source text with `import.meta` pinned to the source file: its URL, dirname and filename as
 * literals, relative `resolve` against its URL (a bare specifier resolves from the bundle, which
 * sits inside the project, so to the same package).
 */
function pinImportMeta(text: string, file: string): string {
  if (!/\bimport\.meta\.(url|dirname|filename|resolve)\b/.test(text)) return text;
  const url = pathToFileURL(file).href;
  // The native resolve, spelt so that this file's own text is left alone when it is bundled.
  const native = ['import', 'meta', 'resolve'].join('.');
  const meta =
    `const __labMeta = { url: ${JSON.stringify(url)}, dirname: ${JSON.stringify(path.dirname(file))}, filename: ${JSON.stringify(file)}, ` +
    `resolve: (s: string): string => (/^\\.{0,2}\\//.test(s) ? new URL(s, ${JSON.stringify(url)}).href : ${native}(s)) };`;
  // On the first line, so the source's line numbers stay as they are.
  return meta + text.replace(/\bimport\.meta\.(url|dirname|filename|resolve)\b/g, '__labMeta.$1');
}

/** Bundles `entries` into `dir` (which must not exist yet), through a directory of its own renamed into place. */
async function build(entries: readonly string[], dir: string): Promise<void> {
  const esbuild = await import('esbuild');
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const names = new Map(entries.map((u) => [path.relative(ROOT, fileURLToPath(u)).replace(/\.ts$/, ''), u]));
  try {
    await esbuild.build({
      entryPoints: Object.fromEntries([...names].map(([name, u]) => [name, fileURLToPath(u)])),
      outdir: tmp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      packages: 'external',
      chunkNames: 'chunks/[name]-[hash]',
      outExtension: { '.js': '.mjs' },
      // Maps for NODE_OPTIONS=--enable-source-maps; not read otherwise, so they cost no start-up.
      sourcemap: 'linked',
      logLevel: 'silent',
      plugins: [
        {
          name: 'pin-import-meta',
          setup(b) {
            b.onLoad({ filter: /\.ts$/ }, (args) => ({ contents: pinImportMeta(readFileSync(args.path, 'utf8'), args.path), loader: 'ts' }));
          },
        },
      ],
    });
    const manifest: Manifest = { entries: Object.fromEntries([...names].map(([name, u]) => [normal(u), `${name}.mjs`])) };
    writeFileSync(path.join(tmp, MANIFEST), JSON.stringify(manifest));
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another run built the same sources meanwhile: its bundle is as good as ours.
      if (!existsSync(path.join(dir, MANIFEST))) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Bundles unused for longer than this are removed when a new one is made, so the cache does not grow forever. */
const KEEP_MS = 7 * 24 * 3600_000;

function pruneOld(keep: string): void {
  for (const name of readdirSync(CACHE)) {
    const p = path.join(CACHE, name);
    if (p === keep) continue;
    try {
      if (Date.now() - statSync(p).mtimeMs > KEEP_MS) rmSync(p, { recursive: true, force: true });
    } catch {
      /* another run removed it */
    }
  }
}

/** A build failure in one line: esbuild's first error with its place, or the error's first line. */
function why(e: unknown): string {
  const first = (e as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors?.[0];
  if (first) return first.location ? `${first.location.file}:${first.location.line}: ${first.text}` : first.text;
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

let ready: ChildBundle | undefined;
let pending: Promise<ChildBundle | undefined> | undefined;
/** Set when bundling failed: the process's children then all start through tsx, without another try. */
let failed = false;

/**
 * Makes sure the child programs are bundled, for every module the registry names now (a
 * transport registered since the last call gets a new bundle). Resolves with the bundle, or
 * undefined when children are to start through tsx (LAB_CHILD_TSX=1, or bundling failed: said
 * once on stderr).
 */
export function prepareChildren(warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<ChildBundle | undefined> {
  if (process.env['LAB_CHILD_TSX'] === '1' || failed) return Promise.resolve(undefined);
  const entries = [...new Set([...childPrograms(), ...registryModules()].map(normal))];
  if (ready && entries.every((u) => ready!.programs.has(u))) return Promise.resolve(ready);
  if (pending) return pending.then(() => prepareChildren(warn));
  pending = (async () => {
    try {
      const { version } = await import('esbuild');
      const dir = path.join(CACHE, bundleKey(ROOT, entries, version));
      if (existsSync(path.join(dir, MANIFEST))) {
        // Marked as used, so that pruning (which goes by age) spares a bundle in use.
        const now = new Date();
        utimesSync(dir, now, now);
      } else {
        mkdirSync(CACHE, { recursive: true });
        await build(entries, dir);
        pruneOld(dir);
      }
      ready = readBundle(dir);
      return ready;
    } catch (e) {
      failed = true;
      ready = undefined;
      warn(`child processes start through tsx: bundling them failed (${why(e)})`);
      return undefined;
    } finally {
      pending = undefined;
    }
  })();
  return pending;
}

/** How to start a child program: its bundled file if the current bundle has it, else undefined (through tsx). */
export function bundledProgram(url: string): { file: string; env: Record<string, string> } | undefined {
  if (!ready || process.env['LAB_CHILD_TSX'] === '1') return undefined;
  const file = ready.programs.get(normal(url));
  return file ? { file, env: { [BUNDLE_ENV]: ready.dir } } : undefined;
}
