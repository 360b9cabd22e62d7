/** --link: the named profiles, custom links and their one-line errors, the `@link` rows, and the link model from memory. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { LinkDirection, MIN_RTO_MS, SEGMENT_BYTES, seededRandom } from '../../path/link-model.ts';
import { customLinkName, LINK_PROFILES, type LinkParams, linkNamed, parseLinkParams, parseLinks } from '../../path/links.ts';
import { ResultsSchema } from '../../metrics/results.ts';
import { transport, withLinks } from '../../transports/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

test('the named profiles carry the published figures and say where they come from', () => {
  const by = (n: string) => LINK_PROFILES.find((l) => l.name === n)!;
  assert.deepEqual(by('3g').params, { rttMs: 300, downBps: 1_600_000, upBps: 768_000, jitterMs: 0, loss: 0 });
  assert.deepEqual(by('cable').params, { rttMs: 28, downBps: 5_000_000, upBps: 1_000_000, jitterMs: 0, loss: 0 });
  assert.equal(by('satellite').params.rttMs, 600);
  for (const n of ['loopback', 'lan', 'cable', 'dsl', '4g', '3g', '3g-slow', 'satellite']) assert.ok(by(n).source.length > 10, n);
  assert.match(by('4g').source, /WebPageTest/);
});

test('a custom link parses with its units, and its row name gives the same link back', () => {
  const p = parseLinkParams('rtt=100ms,down=10mbit,up=2mbit,jitter=5ms,loss=1%');
  assert.deepEqual(p, { rttMs: 100, downBps: 10_000_000, upBps: 2_000_000, jitterMs: 5, loss: 0.01 });
  assert.deepEqual(parseLinkParams('rtt=0.25s,up=768kbit,loss=0.005'), { rttMs: 250, downBps: 0, upBps: 768_000, jitterMs: 0, loss: 0.005 });
  const name = customLinkName(p);
  assert.equal(name, 'rtt100-down10m-up2m-jitter5-loss1');
  assert.deepEqual(linkNamed(name)!.params, p);
  assert.deepEqual(linkNamed(customLinkName(parseLinkParams('rtt=12.5ms,down=1.6mbit,loss=0.5%')))!.params, {
    rttMs: 12.5,
    downBps: 1_600_000,
    upBps: 0,
    jitterMs: 0,
    loss: 0.005,
  });
});

test('a --link list mixes profiles and custom links, whose own commas do not split them', () => {
  const links = parseLinks('loopback,rtt=100ms,down=8mbit,3g,rtt=50ms');
  assert.deepEqual(
    links.map((l) => l.name),
    ['loopback', 'rtt100-down8m', '3g', 'rtt50'],
  );
  assert.deepEqual(
    parseLinks('rtt=0ms,rtt=50ms,loss=1%,rtt=100ms').map((l) => l.name),
    ['rtt0', 'rtt50-loss1', 'rtt100'],
  );
});

test('bad links: one line naming what is wrong', () => {
  for (const [bad, why] of [
    ['5g', /unknown link "5g"/],
    ['rtt=fast', /rtt=fast: expected a duration/],
    ['rtt=100ms,down=10', /down=10: expected a rate/],
    ['rtt=1ms,loss=60%', /under 50%/],
    ['speed=1', /expected one of rtt=/],
  ] as const)
    assert.throws(
      () => parseLinks(bad),
      (e: Error) => why.test(e.message) && !e.message.includes('\n'),
      bad,
    );
});

test('one custom link names a key once', () => {
  assert.throws(() => parseLinkParams('rtt=1ms,rtt=2ms'), /rtt is given twice/);
});

test('bench --link with a bad value: one line naming the flag, exit 2', () => {
  for (const bad of ['5g', 'rtt=1ms,loss=x']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'run.ts', 'bench', '--link', bad], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /--link: /);
  }
});

test('serve with a link row: one line pointing at the plain row, exit 2', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'run.ts', 'serve', 'sse@3g'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr.trim(), /^transport-lab: serve runs a server, not a link: serve sse \(links are for bench --link\)$/);
});

test('links are a row dimension: <row>@<link>, loopback keeping the plain row, and results files accept them', () => {
  const rows = withLinks(['sse', 'websocket'], parseLinks('loopback,3g,rtt=100ms'));
  assert.deepEqual(rows, ['sse', 'sse@3g', 'sse@rtt100', 'websocket', 'websocket@3g', 'websocket@rtt100']);
  const d = transport('websocket@3g');
  assert.equal(d.link?.params.rttMs, 300);
  assert.equal(d.linkOf, 'websocket');
  assert.deepEqual(d.traits, transport('websocket').traits);
  assert.equal(d.role, undefined, 'findings compare the plain rows by role');
  assert.equal(transport('websocket-n2@4g').nodes, 2, 'a clustered row on a link');
  assert.throws(() => transport('websocket@5g'), /unknown transport/);
  const row = { transport: 'sse@3g', state: 'n/a', error: 'x', latencyMs: null, throughput: null, messages: null, wire: null, server: null };
  const file = {
    version: 1,
    meta: { startedAt: 'x', node: 'x', os: 'x', cpu: 'x', cores: 2, command: 'x', links: { '3g': 'words' } },
    scenarios: [{ name: 'push', params: {}, results: [row] }],
  };
  const parsed = ResultsSchema.safeParse(file);
  assert.ok(parsed.success || !parsed.error.issues.some((i) => i.path.includes('transport')), parsed.success ? '' : JSON.stringify(parsed.error.issues));
});

const link = (o: Partial<LinkParams>): LinkParams => ({ rttMs: 0, downBps: 0, upBps: 0, jitterMs: 0, loss: 0, ...o });

test('the model: RTT/2 each way, nothing before the handshake’s RTT, and the rate serialises a burst', () => {
  const p = link({ rttMs: 100, downBps: 8_000_000 });
  const d = new LinkDirection(p, p.downBps, 100, seededRandom(1));
  // Handed over at 0, before the handshake's round trip ended: leaves at 100, arrives 50 later plus its serialisation.
  const [first] = d.admit(0, 1000);
  assert.ok(Math.abs(first!.at - (100 + 1 + 50)) < 1e-9, String(first!.at));
  // 1 MB at 8 Mbit/s is 1 s of serialisation behind the first kilobyte.
  const pieces = d.admit(200, 1_000_000);
  assert.ok(Math.abs(pieces[pieces.length - 1]!.at - (200 + 1000 + 50)) < 1e-6);
  assert.equal(pieces[pieces.length - 1]!.end, 1_000_000);
  assert.ok(d.backlog(200) > 990_000, 'the burst waits in front of the link');
});

test('the model: jitter never reorders, and a lost segment holds back every byte behind it by one RTO', () => {
  const p = link({ rttMs: 40, jitterMs: 30, loss: 0.05 });
  const d = new LinkDirection(p, 0, 0, seededRandom(7));
  let last = 0;
  let late = 0;
  const n = 4000;
  for (let i = 0; i < n; i++) {
    const t = 100 + i * 5;
    for (const piece of d.admit(t, 100)) {
      assert.ok(piece.at >= last, 'in order');
      last = piece.at;
      if (piece.at - t >= 40 + MIN_RTO_MS) late++;
    }
  }
  assert.ok(Math.abs(d.lost / n - 0.05) < 0.015, `lost ${d.lost} of ${n}`);
  // Each loss delays its own chunk and, through in-order delivery, the next chunks within the RTO: more are late than lost.
  assert.ok(late >= d.lost, `late ${late}, lost ${d.lost}`);
  // The same seed draws the same link.
  const again = new LinkDirection(p, 0, 0, seededRandom(7));
  for (let i = 0; i < n; i++) again.admit(100 + i * 5, 100);
  assert.equal(again.lost, d.lost);
});

test('the model: loss is drawn per segment, so a large write splits at its lost segment', () => {
  const p = link({ rttMs: 10, loss: 0.2 });
  const d = new LinkDirection(p, 0, 0, seededRandom(3));
  const pieces = d.admit(0, SEGMENT_BYTES * 50);
  assert.ok(d.lost > 0);
  assert.ok(pieces.length >= 2, 'the bytes before the first lost segment go on time');
  assert.equal(pieces[0]!.at, 5);
  assert.equal(pieces[pieces.length - 1]!.end, SEGMENT_BYTES * 50);
});
