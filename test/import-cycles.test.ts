/**
 * No import cycles: biome's noImportCycles, with type-only imports counted, is part of the static
 * checks `npm test` runs (`biome check .`). A type-only cycle loads nothing twice, but it ties two
 * layers together all the same: the next value import along it is a real cycle.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIOME = path.join(ROOT, 'node_modules', '.bin', 'biome');

/** Runs biome's linter in `cwd` and returns its exit code and output. */
function lint(cwd: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(BIOME, ['lint', ...args], { cwd, maxBuffer: 16 * 1024 * 1024 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

test('npm test runs biome check, and the project has no import cycle, type-only imports included', async () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts['test']!, /\bbiome check \./);
  const config = JSON.parse(readFileSync(path.join(ROOT, 'biome.json'), 'utf8')) as {
    linter: { rules: { suspicious: Record<string, unknown> } };
  };
  assert.deepEqual(config.linter.rules.suspicious['noImportCycles'], { level: 'error', options: { ignoreTypes: false } });
  const r = await lint(ROOT, '--only=suspicious/noImportCycles', '.');
  assert.equal(r.code, 0, r.out);
});

test("the project's biome configuration fails on an added cycle, even one leg of it type-only", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-cycle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The configuration reads .gitignore through git, as it does in the project.
  await new Promise<void>((resolve, reject) => execFile('git', ['init', '-q'], { cwd: dir }, (e) => (e ? reject(e) : resolve())));
  copyFileSync(path.join(ROOT, 'biome.json'), path.join(dir, 'biome.json'));
  writeFileSync(path.join(dir, 'low.ts'), 'export const low = (): number => 1;\n');
  writeFileSync(path.join(dir, 'high.ts'), "import { low } from './low.ts';\n\nexport const high = (): number => low() + 1;\n");
  const clean = await lint(dir, '.');
  assert.equal(clean.code, 0, `without the cycle the same files pass:\n${clean.out}`);

  // The low module now names a type of the high one: the shape of the cycle between the results schema and the registry.
  writeFileSync(path.join(dir, 'low.ts'), "import type { high } from './high.ts';\n\nexport const low = (): number => 1;\nexport type High = typeof high;\n");
  const cyclic = await lint(dir, '.');
  assert.notEqual(cyclic.code, 0, 'biome passed a cycle');
  assert.match(cyclic.out, /noImportCycles/);
  assert.match(cyclic.out, /low\.ts/);
});
