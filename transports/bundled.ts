/**
 * A bundled child's side of the bundle (runner/bundle.ts builds it): the bundled file of a source
 * URL, for the registry's modules (`importable`) and a child's own child programs (`ownProgram`).
 * It sits below the registry, which imports modules through it, and imports nothing of the lab.
 */
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The environment variable a bundled child finds its bundle's directory in. */
export const BUNDLE_ENV = 'LAB_CHILD_BUNDLE';
/** The file in a bundle's directory that maps each entry's source URL to its bundled file. */
export const MANIFEST = 'manifest.json';

/** A built bundle: its directory and, per source URL of an entry, its bundled file. */
export interface ChildBundle {
  dir: string;
  /** Source file URL → absolute path of the bundled file. */
  programs: Map<string, string>;
}

/** What a manifest on disk holds: entry source URLs and their bundled files, relative to the bundle. */
export interface Manifest {
  entries: Record<string, string>;
}

/** A file URL in one spelling, so that URLs built by different modules compare equal. */
export const normal = (url: string): string => pathToFileURL(fileURLToPath(url)).href;

/** A bundle's programs, from its manifest. */
export function readBundle(dir: string): ChildBundle {
  const m = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as Manifest;
  return { dir, programs: new Map(Object.entries(m.entries).map(([u, f]) => [u, path.join(dir, f)])) };
}

/** In a bundled child: the bundle's programs, read once from its manifest. */
let own: Map<string, string> | undefined;
let tsxHooks: Promise<void> | undefined;

/** The bundled file of a module URL in the bundle at `dir` (this child's), or undefined. */
function ownFile(dir: string, url: string): string | undefined {
  own ??= readBundle(dir).programs;
  return own.get(normal(url));
}

/** The project's root (this file lives one folder below it). */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The project's root as the file system has it, links resolved. */
let realRoot: string | undefined;

/**
 * Whether a module URL is one of the project's own files (its bundle included, which lives under
 * node_modules/.cache): a `file:` URL whose real path, links resolved, lies under the project's
 * root. Nothing else is imported by a child, whoever names it: a `data:` URL, or a file elsewhere,
 * would run code the project does not ship.
 */
export function ownModule(url: string): boolean {
  if (!url.startsWith('file:')) return false;
  try {
    realRoot ??= realpathSync(ROOT);
    const rel = path.relative(realRoot, realpathSync(fileURLToPath(url)));
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  } catch {
    return false;
  }
}

/**
 * The URL to `import()` for a module URL of the project: in a bundled child its bundled file,
 * so the module shares the bundle's instances; outside a bundle the URL itself. A module the
 * bundle lacks is imported from source, through tsx's hooks registered for it. Any other URL
 * (`ownModule`) is refused with an error naming it.
 */
export async function importable(url: string): Promise<string> {
  if (!ownModule(url))
    throw new Error(`refused to import ${JSON.stringify(url.slice(0, 120))}: a child imports only the project's own modules (file: URLs under ${ROOT})`);
  const dir = process.env[BUNDLE_ENV];
  if (!dir) return url;
  const file = ownFile(dir, url);
  if (file) return pathToFileURL(file).href;
  tsxHooks ??= import('tsx/esm/api').then((m) => void m.register());
  await tsxHooks;
  return url;
}

/** The file and node flags to start a child program of a child's own with (a cluster node): its bundled file in a bundled child. */
export function ownProgram(url: string): { file: string; execArgv: string[] } {
  const dir = process.env[BUNDLE_ENV];
  if (!dir) return { file: fileURLToPath(url), execArgv: process.execArgv };
  const file = ownFile(dir, url);
  return file ? { file, execArgv: process.execArgv } : { file: fileURLToPath(url), execArgv: [...process.execArgv, '--import', import.meta.resolve('tsx')] };
}
