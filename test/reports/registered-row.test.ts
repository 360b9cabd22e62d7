/**
 * A row the registry accepts is a row a report accepts. The report reads a results file in a
 * process of its own, whose registry holds only the built-in transports: a transport added with
 * `registerTransport` in the run that wrote the file, a link row, an HTTP/2 row or a reconnect
 * policy's variant must still render, because a row's name is checked for its shape.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TransportResult } from '../../metrics/results.ts';
import { ROW_NAME, TRANSPORT_NAME } from '../../metrics/row-name.ts';
import { registerTransport, transport, transportByName, transports, withNodes } from '../../transports/index.ts';
import { fixture } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Row names a results file may hold that no registry of the reading process knows. */
const FOREIGN_ROWS = ['websocket@3g', 'polling-h2', 'sse-h2', 'websocket-h2', 'websocket+resume', 'sse@cable', 'websocket-n4@3g'];

/** `transport-lab report FILE --format F` in a fresh process, as a user runs it. */
function report(file: string, format: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'run.ts'), 'report', file, '--format', format],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
      (e, out, err) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err }),
    );
  });
}

test('a results file with a registerTransport row and the coming row names renders in every format', { timeout: 120_000 }, async (t) => {
  // The run that wrote the file registered a transport of its own, as the README shows.
  const name = 'line-stream';
  if (!transportByName(name)) registerTransport({ ...transport('sse'), name, inWords: 'a line stream', byNameOnly: true });
  const rows = [name, ...FOREIGN_ROWS];
  const results = fixture('results-full.json');
  for (const s of results.scenarios) {
    const model = s.results.find((r) => r.transport === 'websocket' || r.transport === 'sse') ?? s.results[0]!;
    for (const row of rows) s.results.push({ ...(structuredClone(model) as TransportResult), transport: row });
  }
  const dir = mkdtempSync(join(tmpdir(), 'registered-row-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'results.json');
  writeFileSync(file, JSON.stringify(results));

  for (const format of ['md', 'text']) {
    const r = await report(file, format);
    assert.equal(r.code, 0, `--format ${format}: ${r.err}`);
    for (const row of rows) assert.ok(r.out.includes(row), `--format ${format} shows the ${row} row`);
  }
  const html = await report(file, 'html');
  assert.equal(html.code, 0, html.err);
  assert.match(html.out, /index\.html/);
});

test('every name the registry takes is a row name, and a name that is not one is refused at registration', () => {
  const names = [...transports().map((d) => d.name), ...withNodes(['websocket', 'sse'], [1, 4])];
  for (const n of names) assert.match(n, ROW_NAME, `${n} is a row name`);
  for (const n of FOREIGN_ROWS) assert.match(n, ROW_NAME, `${n} is a row name`);
  // The longest name registration takes still makes row names with every suffix a run adds.
  const longest = `l${'x'.repeat(47)}`;
  assert.match(longest, TRANSPORT_NAME);
  for (const row of [`${longest}-n128`, `${longest}+deflate-node`, `${longest}-h2+resume@slow-3g`]) assert.match(row, ROW_NAME, row);
  assert.doesNotMatch(`${longest}x`, TRANSPORT_NAME);
  for (const bad of ['', 'WS', 'web socket', '<b>ws</b>', '../ws', 'ws@', '@3g', 'ws@3g@4g', '-ws', 'x'.repeat(100)]) {
    assert.doesNotMatch(bad, ROW_NAME, `${JSON.stringify(bad)} is no row name`);
    assert.doesNotMatch(bad, TRANSPORT_NAME);
    assert.throws(() => registerTransport({ ...transport('ws'), name: bad }), /transport name .* must be at most 48 lower-case letters/);
  }
  // A link is the run's, not the transport's: `@` belongs to link rows only.
  assert.throws(() => registerTransport({ ...transport('ws'), name: 'ws@3g' }), /must be at most 48 lower-case letters/);
});
