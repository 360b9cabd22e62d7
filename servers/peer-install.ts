/**
 * Where the peers' programs are installed, apart from the servers that run them: the registry
 * reads their versions from here (transports/peers.ts) without loading server code, so a report
 * that reads the registry loads no HTTP framework.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

/** Where Debian installs websocketd (WEBSOCKETD_PATH overrides, as in scripts/ensure-websocketd.sh). */
export function websocketdPath(): string {
  return process.env['WEBSOCKETD_PATH'] ?? '/usr/bin/websocketd';
}

/** Where scripts/ensure-uws.sh installs uWebSockets.js (LAB_UWS_DIR overrides). */
function uwsDir(): string {
  return process.env['LAB_UWS_DIR'] ?? new URL('../.cache/uws', import.meta.url).pathname;
}

/** What is installed: the package, its version and the binary this Node loads. */
interface UwsInstall {
  packageDir: string;
  name: string;
  version: string;
  binary: string;
  sha256: string;
  /** The uWebSockets.js commit the package says it was built from, if it says. */
  sourceCommit?: string;
}

/** The installed uWebSockets.js, or an error saying how to install it. */
export function uwsInstall(): UwsInstall {
  const dir = uwsDir();
  const marker = `${dir}/package-name`;
  if (!existsSync(marker)) throw new Error(`uWebSockets.js is not installed in ${dir} (run: sh scripts/ensure-uws.sh)`);
  const name = readFileSync(marker, 'utf8').trim();
  const packageDir = `${dir}/node_modules/${name}`;
  const { version } = JSON.parse(readFileSync(`${packageDir}/package.json`, 'utf8')) as { version: string };
  const binary = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  if (!existsSync(`${packageDir}/${binary}`)) throw new Error(`${name} ${version} has no ${binary} for this Node (${process.version})`);
  const bytes = readFileSync(`${packageDir}/${binary}`);
  const glibc = glibcShortfall(bytes);
  if (glibc) throw new Error(`${name} ${version}'s ${binary} (for ${process.version}) needs glibc ${glibc.needs}; this system has ${glibc.has}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const commitFile = `${packageDir}/source_commit`;
  const sourceCommit = existsSync(commitFile) ? readFileSync(commitFile, 'utf8').trim() : undefined;
  return { packageDir, name, version, binary, sha256, ...(sourceCommit ? { sourceCommit } : {}) };
}

/**
 * The glibc a Linux binary asks for (its highest GLIBC_2.N symbol version) when this system's
 * is older: such a binary fails to load, so the row is unavailable with that reason rather than
 * erroring mid-run. uWebSockets.js builds for newer Node majors on newer glibc than older ones.
 */
function glibcShortfall(binary: Buffer): { needs: string; has: string } | null {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  const has = header?.glibcVersionRuntime;
  if (has === undefined) return null; // not glibc (or not Linux): nothing to compare with
  let needs = 0;
  for (const m of binary.toString('latin1').matchAll(/GLIBC_2\.(\d+)/g)) needs = Math.max(needs, Number(m[1]));
  const hasMinor = Number(has.split('.')[1]);
  return needs > hasMinor ? { needs: `2.${needs}`, has } : null;
}
