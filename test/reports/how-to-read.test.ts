import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderHtml } from '../../reports/html/render.ts';
import { renderMarkdown } from '../../reports/markdown.ts';
import { renderTable } from '../../reports/table.ts';
import { fixture } from './helpers.ts';

describe('report: CPU sets, noisy reruns and the how-to-read box', () => {
  const r = fixture('results-full.json');
  r.meta.cpuSets = { server: [1], load: [0] };
  r.meta.noisyReruns = 2;
  it('every back end shows the box; the environment shows the CPU split and reruns', () => {
    const md = renderMarkdown(r);
    const page = renderHtml(r);
    const text = renderTable(r);
    for (const out of [md, page, text]) {
      assert.match(out, /How to read these figures/);
      assert.match(out, /coordinated omission/);
      assert.match(out, /floor/);
      assert.match(out, /sustained ≥ A, failed at B/);
      assert.match(out, /compare them between transports of one run/);
      assert.match(out, /trial by trial \(trial k of each runs back to back\), the 95 % interval of their ratio lies more than 10 % from 1/);
      assert.match(out, /its columns are marked saturated\. The p50 at the fixed rate is the latency to compare servers by/);
      assert.match(out, /so only a difference over 10 % is named/);
    }
    for (const out of [md, page]) {
      assert.match(out, /server on CPU 1, load on CPU 0/);
      assert.match(out, /noisy trials rerun/);
    }
  });
  it('a floor is marked in the flags column and in the findings', () => {
    const f = fixture('results-full.json');
    const row = f.scenarios.flatMap((s) => s.results).find((x) => x.state === 'completed' && x.client)!;
    row.client!.clientBound = true;
    row.extra = { ...row.extra, floor: true, trials: 3 };
    const md = renderMarkdown(f);
    assert.match(md, /floor \(client-bound [\d.]+%\), 3 trials/);
    assert.match(md, /so these figures are a floor/);
  });
  it('an unpinned run says why', () => {
    r.meta.cpuSets = { off: 'one core only: server and load share it' };
    assert.match(renderMarkdown(r), /one core only/);
  });
});
