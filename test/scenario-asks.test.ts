/**
 * A scenario speaks to its child processes through verbs: the session's (`publish`, `send`,
 * `totals`, …) or a small class that owns its own child (dead-peer's `Peer`, http-saturation's
 * `Cannon`, connect's `ConnectProbe`: `this.child.ask(…)` in a method), each verb with its
 * timeout inside. Any other `.ask(…)` under scenarios/ picks its own message and timeout, and
 * fails this check.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseSync } from 'oxc-parser';
import { sourceFiles } from './layers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

type Node = { type: string; start: number; [k: string]: unknown };
const isNode = (x: unknown): x is Node => typeof x === 'object' && x !== null && typeof (x as Node).type === 'string';

/**
 * The 1-based lines of the `.ask(…)` calls in `text` other than a class asking a child it holds
 * (`this.child.ask(…)` inside a class body): the owner of a child protocol.
 */
function loneAsks(file: string, text: string): number[] {
  const { program, errors } = parseSync(file, text);
  assert.deepEqual(errors, [], `${file} parses`);
  const lines: number[] = [];
  const visit = (n: Node, inClass: boolean) => {
    const here = inClass || n.type === 'ClassBody';
    const callee = n['callee'];
    if (
      n.type === 'CallExpression' &&
      isNode(callee) &&
      callee.type === 'MemberExpression' &&
      isNode(callee['property']) &&
      callee['property']['name'] === 'ask'
    ) {
      const holder = callee['object'];
      const own = here && isNode(holder) && holder.type === 'MemberExpression' && isNode(holder['object']) && holder['object'].type === 'ThisExpression';
      if (!own) lines.push(text.slice(0, n.start).split('\n').length);
    }
    for (const v of Object.values(n)) {
      if (Array.isArray(v)) for (const c of v) isNode(c) && visit(c, here);
      else if (isNode(v)) visit(v, here);
    }
  };
  visit(program as unknown as Node, false);
  return lines;
}

test('no scenario asks a child directly: only a class that owns the child does', () => {
  const files = sourceFiles(ROOT).filter((f) => f.startsWith('scenarios/'));
  assert.ok(files.length > 30, `${files.length} scenario files read`);
  const found = files.flatMap((f) => loneAsks(f, readFileSync(path.join(ROOT, f), 'utf8')).map((line) => `${f}:${line}`));
  assert.deepEqual(found, []);
});

test('the check finds a raw ask in a function, a method chain, an arrow and a class asking what it does not hold; it passes a class asking its own child', () => {
  const text = [
    'async function run(s) {',
    '  await s.server.ask({ type: "publish" }, 1000);',
    '  const r = await child',
    '    .ask({ type: "measure" }, 5000);',
    '  await Promise.all(s.loads.map((l) => l.ask({ type: "snapshot" }, 10)));',
    '}',
    'class Probe { measure() { return this.child.ask({ type: "measure" }, 5000); } }',
    'const task = s.task(1);',
    'class Timeline { read() { return this.loads.map((l) => l.ask({ type: "snapshot" }, 10)); } }',
  ].join('\n');
  assert.deepEqual(loneAsks('x.ts', text), [2, 3, 5, 9]);
});
