/**
 * The layers of the lab as data: the order docs/ARCHITECTURE.md lists, and per layer the layers
 * its files may import. `test/layers.test.ts` checks every import of every source file against it
 * (type-only imports, re-exports and dynamic `import()` included), and that every import the
 * table allows points down the list.
 *
 * A child program named by URL (`import.meta.resolve('./server-child.ts')`) is not an import: it
 * runs in a process of its own, which loads it, not the one that names it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseSync } from 'oxc-parser';

/** One layer: its name as the architecture notes write it, the files in it, what it may import. */
export interface Layer {
  /** The first column of the layer's line in docs/ARCHITECTURE.md. */
  name: string;
  /**
   * Its files, relative to the project: `dir/` (everything under it), a file, or a pattern with
   * `*` (within one folder). A file belongs to the layer of the longest pattern that matches it.
   */
  files: readonly string[];
  /** The layers its files may import besides their own: names of layers further down, or `below` for all of them. */
  may: readonly string[] | 'below';
}

/** Top to bottom: imports point down this list, never up. */
export const LAYERS: readonly Layer[] = [
  { name: 'test/ bench/ scripts/', files: ['test/', 'bench/', 'scripts/'], may: 'below' },
  { name: 'run.ts bin/', files: ['run.ts', 'bin/'], may: 'below' },
  { name: 'demo/ exec/', files: ['demo/', 'exec/'], may: ['path/', 'servers/ clients/', 'metrics/', 'protocol/', 'args.ts'] },
  { name: 'agents/', files: ['agents/'], may: ['cluster/', 'runner/', 'transports/', 'metrics/', 'args.ts'] },
  { name: 'cluster/', files: ['cluster/'], may: ['runner/', 'transports/', 'servers/ clients/', 'metrics/', 'protocol/', 'args.ts'] },
  {
    name: 'scenarios/ (runs)',
    files: ['scenarios/', 'scenarios/index.ts', 'scenarios/contract.ts'],
    may: ['runner/', 'scenarios/ (facets)', 'report-model/', 'path/', 'transports/', 'servers/ clients/', 'metrics/', 'protocol/', 'args.ts'],
  },
  { name: 'runner/', files: ['runner/'], may: ['report-model/', 'path/', 'transports/', 'servers/ clients/', 'metrics/', 'args.ts'] },
  { name: 'reports/', files: ['reports/'], may: ['scenarios/ (facets)', 'report-model/', 'transports/', 'metrics/'] },
  {
    name: 'scenarios/ (facets)',
    // The helpers beside the slices (facet-kit, cluster-kit, read) and a slice's findings serve facets; index.ts and contract.ts, above, serve runs.
    files: ['scenarios/*.ts', 'scenarios/*/facet.ts', 'scenarios/*/schema.ts', 'scenarios/*/*-findings.ts'],
    may: ['report-model/', 'transports/', 'servers/ clients/', 'metrics/'],
  },
  // path/'s link model is data and arithmetic: the link findings read a link's RTO from it.
  { name: 'report-model/', files: ['report-model/'], may: ['transports/', 'path/', 'metrics/'] },
  { name: 'transports/', files: ['transports/'], may: ['path/', 'servers/ clients/', 'metrics/'] },
  { name: 'path/', files: ['path/'], may: ['servers/ clients/', 'metrics/'] },
  { name: 'servers/ clients/', files: ['servers/', 'clients/'], may: ['metrics/', 'protocol/'] },
  { name: 'metrics/', files: ['metrics/'], may: [] },
  { name: 'protocol/', files: ['protocol/'], may: [] },
  { name: 'args.ts', files: ['args.ts'], may: [] },
];

/** Folders that hold no source of the lab. */
const NOT_SOURCES = new Set(['node_modules', '.git', 'test-output', '.cache']);
/** Sources the checker reads: TypeScript, and the two JavaScript files (the bin launcher and the demo page's script). */
const SOURCE = /\.(ts|js|mjs)$/;

/** Every source file under `root`, relative to it with `/` separators, build output left out. */
export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!NOT_SOURCES.has(e.name) && r !== 'reports/out') walk(r);
      } else if (e.isFile() && SOURCE.test(e.name) && !e.name.endsWith('.d.ts')) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

/** One import of one file: what it names, resolved within the project when relative. */
export interface ImportEdge {
  from: string;
  /** The specifier as written. */
  spec: string;
  /** The imported file relative to the project, or undefined for a package or a node: module. */
  to: string | undefined;
  kind: 'import' | 'type' | 'export' | 'dynamic';
}

/** The imports of one source text: static (type-only marked), re-exports and `import()` with a literal specifier. */
export function importsOf(file: string, text: string): ImportEdge[] {
  const { module, errors } = parseSync(file, text);
  if (errors.length) throw new Error(`${file}: cannot parse: ${errors[0]!.message}`);
  const edges: ImportEdge[] = [];
  const add = (spec: string, kind: ImportEdge['kind']) => {
    const to = spec.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)) : undefined;
    edges.push({ from: file, spec, to, kind });
  };
  for (const i of module.staticImports) add(i.moduleRequest.value, i.entries.length > 0 && i.entries.every((e) => e.isType) ? 'type' : 'import');
  for (const e of module.staticExports) for (const x of e.entries) if (x.moduleRequest) add(x.moduleRequest.value, 'export');
  for (const d of module.dynamicImports) {
    const literal = /^(['"`])([^'"`$]*)\1$/.exec(text.slice(d.moduleRequest.start, d.moduleRequest.end).trim());
    if (literal) add(literal[2]!, 'dynamic');
  }
  return edges;
}

/** Whether a pattern of `Layer.files` matches a file. */
function matches(pattern: string, file: string): boolean {
  if (pattern.endsWith('/')) return file.startsWith(pattern);
  if (!pattern.includes('*')) return file === pattern;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*')}$`,
  );
  return re.test(file);
}

/** The layer a file belongs to: the one with the longest pattern that matches it, or undefined. */
export function layerOf(file: string, layers: readonly Layer[] = LAYERS): Layer | undefined {
  let best: { layer: Layer; length: number } | undefined;
  for (const layer of layers) for (const p of layer.files) if (matches(p, file) && (!best || p.length > best.length)) best = { layer, length: p.length };
  return best?.layer;
}

/** The names of the layers `layer` may import, its own included. */
export function allowed(layer: Layer, layers: readonly Layer[] = LAYERS): Set<string> {
  const i = layers.indexOf(layer);
  const names = layer.may === 'below' ? layers.slice(i + 1).map((l) => l.name) : layer.may;
  return new Set([layer.name, ...names]);
}

/** One import the table does not allow, in one line. */
export interface Violation {
  edge: ImportEdge;
  line: string;
}

/** Checks imports against the table: every file in a layer, every project import allowed for its file's layer. */
export function violations(edges: readonly ImportEdge[], files: readonly string[], layers: readonly Layer[] = LAYERS): Violation[] {
  const out: Violation[] = [];
  for (const f of files)
    if (!layerOf(f, layers))
      out.push({ edge: { from: f, spec: '', to: undefined, kind: 'import' }, line: `${f} belongs to no layer: add it to a layer's files in test/layers.ts` });
  for (const e of edges) {
    if (e.to === undefined) continue;
    const from = layerOf(e.from, layers);
    const to = layerOf(e.to, layers);
    if (!from || !to) continue;
    if (!allowed(from, layers).has(to.name))
      out.push({
        edge: e,
        line: `${e.from} (${from.name}) imports ${e.spec} (${to.name})${e.kind === 'type' ? ', types only' : ''}: not among the layers it may import`,
      });
  }
  return out;
}

/** Every import of every source file under `root`. */
export function projectImports(root: string): { files: string[]; edges: ImportEdge[] } {
  const files = sourceFiles(root);
  return { files, edges: files.flatMap((f) => importsOf(f, readFileSync(path.join(root, f), 'utf8'))) };
}
