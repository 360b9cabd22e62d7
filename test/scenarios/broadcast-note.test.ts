/**
 * The push and fan-out findings name what the engine and `ws` comparison does not hold equal:
 * the engine frames a broadcast once, `ws` frames it per subscriber; with the `ws+preframed` row
 * in the run, its figure stands beside the other two.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Results, TransportResult } from '../../metrics/results.ts';
import { buildReport } from '../../reports/build.ts';
import { broadcastFramingNote } from '../../scenarios/broadcast-note.ts';
import { fixture } from '../reports/helpers.ts';

const real = fixture('results-real.json');

/** The run with a `ws+preframed` row beside `ws` in push and fan-out, costing `cpuUs` per delivered message. */
function withPreframed(r: Results, cpuUs: number): Results {
  const out = structuredClone(r);
  for (const s of out.scenarios.filter((x) => x.name === 'push' || x.name === 'fan-out')) {
    const ws = s.results.find((x) => x.transport === 'ws')!;
    const row: TransportResult = structuredClone(ws);
    row.transport = 'ws+preframed';
    row.server = { ...row.server!, cpuUsPerMessage: cpuUs };
    delete row.extra?.['fixedCpuUsPerMessage'];
    s.results.push(row);
  }
  return out;
}

test('without the pre-framed row: the difference is named, and how to measure it', () => {
  for (const name of ['push', 'fan-out']) {
    const s = real.scenarios.find((x) => x.name === name)!;
    const note = broadcastFramingNote(s)!;
    assert.equal(note.topic, 'cost');
    assert.equal(
      note.text,
      `${name}: the engine's server frames a broadcast once and writes the same bytes to every subscriber; the ws row frames it again for each subscriber, as ws's API has its users do by calling send per peer, so part of the gap between the two is the API, not the engine (add the ws row that pre-frames with its own Sender.frame to the run's transports to see how much).`,
    );
  }
});

test("with the pre-framed row: its figure beside ws's and the engine's, in the push and fan-out findings of the report", () => {
  const r = withPreframed(real, 7.25);
  for (const name of ['push', 'fan-out']) {
    const s = r.scenarios.find((x) => x.name === name)!;
    const note = broadcastFramingNote(s)!;
    // Not every row carries the fixed-rate figure here, so all three are given per delivered message.
    assert.match(
      note.text,
      /so part of the gap between the two is the API, not the engine\. server CPU µs per delivered message: ws\+preframed \(ws, each broadcast framed once by its own Sender\.frame\) 7\.25 µs, ws [\d.]+ µs and websocket [\d.]+ µs\.$/,
    );
    const texts = buildReport(r).findingGroups.flatMap((g) => g.items.filter((i) => i.topic === 'cost' || g.topic === 'cost').map((i) => i.text));
    assert.ok(texts.includes(note.text), `${name}: the note is among the report's findings`);
  }
});

test('no note where the engine or the reference did not complete', () => {
  const s = structuredClone(real.scenarios.find((x) => x.name === 'push')!);
  s.results = s.results.filter((x) => x.transport !== 'websocket');
  assert.equal(broadcastFramingNote(s), undefined);
});
