import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { reportCommand } from '../../reports/cli.ts';
import { readResultsFile, ReportInputError } from '../../reports/validate.ts';
import { FIXTURES, fixture } from './helpers.ts';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await reportCommand(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'report-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function assertOneLineError(r: { code: number; out: string; err: string }, pattern: RegExp): void {
  assert.equal(r.code, 2);
  assert.equal(r.out, '');
  assert.match(r.err, /^report: [^\n]+\n$/);
  assert.match(r.err, pattern);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
}

describe('report command: bad input exits 2 with one line', () => {
  it('a missing file', async () => {
    assertOneLineError(await run(['/nonexistent/results.json']), /cannot read \/nonexistent\/results\.json: no such file/);
  });

  it('invalid JSON', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'bad.json');
    await writeFile(file, '{"meta": {');
    assertOneLineError(await run([file]), /bad\.json is not valid JSON/);
  });

  it('a results file of another version', async () => {
    assertOneLineError(await run([join(FIXTURES, 'results-wrong-version.json')]), /results version 3, but this report reads version 2/);
  });

  it('a file without a version, or missing a fixed point', async (t) => {
    const dir = await tempDir(t);
    const noVersion = fixture('results-full.json') as unknown as { meta: Record<string, unknown> };
    delete noVersion.meta.version;
    await writeFile(join(dir, 'a.json'), JSON.stringify(noVersion));
    assertOneLineError(await run([join(dir, 'a.json')]), /meta\.version is missing/);

    const noWire = fixture('results-full.json');
    delete (noWire.scenarios[0]!.results[3] as unknown as Record<string, unknown>).wire;
    await writeFile(join(dir, 'b.json'), JSON.stringify(noWire));
    assertOneLineError(await run([join(dir, 'b.json')]), /scenarios\[0\]\.results\[3\]\.wire is missing/);

    // A row's name is checked for its shape, not against this build's registry: markup is no row name.
    const badTransport = fixture('results-full.json');
    (badTransport.scenarios[1]!.results[0] as unknown as Record<string, unknown>).transport = '<b>ws</b>';
    await writeFile(join(dir, 'c.json'), JSON.stringify(badTransport));
    assertOneLineError(await run([join(dir, 'c.json')]), /scenarios\[1\]\.results\[0\]\.transport is "<b>ws<\/b>", not a row name \(lower-case letters/);
  });

  it('a bad baseline is named too', async () => {
    assertOneLineError(await run([join(FIXTURES, 'results-full.json'), '--baseline', '/nonexistent/old.json']), /cannot read \/nonexistent\/old\.json/);
  });

  it('wrong usage', async () => {
    assertOneLineError(await run([]), /no results file given/);
    assertOneLineError(await run([join(FIXTURES, 'results-full.json'), '--nope']), /Unknown option '--nope'/);
    assertOneLineError(await run([join(FIXTURES, 'results-full.json'), '--format', 'pdf']), /--format must be html, md or text/);
  });

  it('readResultsFile throws ReportInputError, never a raw error', async () => {
    await assert.rejects(readResultsFile('/nonexistent.json'), ReportInputError);
  });
});

describe('report command: output', () => {
  it('writes index.html beside the results file and prints its path', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'results.json');
    await writeFile(file, await readFile(join(FIXTURES, 'results-full.json')));
    const r = await run([file]);
    assert.equal(r.code, 0);
    assert.equal(r.out, `${join(dir, 'index.html')}\n`);
    assert.match(await readFile(join(dir, 'index.html'), 'utf8'), /^<!doctype html>/);
  });

  it('writes to --out, a file or a directory', async (t) => {
    const dir = await tempDir(t);
    const asFile = await run([join(FIXTURES, 'results-full.json'), '--out', join(dir, 'r.html')]);
    assert.equal(asFile.out, `${join(dir, 'r.html')}\n`);
    const asDir = await run([join(FIXTURES, 'results-full.json'), '--baseline', join(FIXTURES, 'results-baseline.json'), '--out', dir]);
    assert.equal(asDir.out, `${join(dir, 'index.html')}\n`);
    assert.match(await readFile(join(dir, 'index.html'), 'utf8'), /Compared with baseline/);
  });

  it('prints Markdown with --format md, or writes it with --out', async (t) => {
    const r = await run([join(FIXTURES, 'results-full.json'), '--format', 'md']);
    assert.equal(r.code, 0);
    assert.match(r.out, /^## transport-lab results\n/);
    const dir = await tempDir(t);
    const w = await run([join(FIXTURES, 'results-full.json'), '--format', 'md', '--out', dir + '/']);
    assert.equal(w.out, `${join(dir, 'summary.md')}\n`);
  });

  it('prints the terminal table with --format text', async () => {
    const r = await run([join(FIXTURES, 'results-all-errored.json'), '--format', 'text']);
    assert.equal(r.code, 0);
    assert.match(r.out, /== push/);
    assert.match(r.out, /Every transport in every scenario errored/);
  });
});
