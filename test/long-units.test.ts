/** The long-units list reads functions from the syntax tree: their names, where they start and how many lines they span. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unitsOf } from '../scripts/long-units.ts';

test('functions, methods, bound arrows and callbacks are named by what holds them and counted head to closing brace', () => {
  const text = [
    '// a comment with — non-ASCII ’ text before the code',
    'export function outer(a: number) {',
    '  const inner = (b: number) => {',
    '    return a + b;',
    '  };',
    '  return inner(1);',
    '}',
    'class Box {',
    '  private value = 0;',
    '  get size(): number {',
    '    return this.value;',
    '  }',
    '  add(n: number): void {',
    '    this.value += n;',
    '  }',
    '}',
    "test('adds one', () => {",
    '  new Box().add(1);',
    '});',
    'const o = { run() { return 1; } };',
  ].join('\n');
  assert.deepEqual(unitsOf('x.ts', text), [
    { name: 'outer', line: 2, lines: 6 },
    { name: 'outer › inner', line: 3, lines: 3 },
    { name: 'Box.size', line: 10, lines: 3 },
    { name: 'Box.add', line: 13, lines: 3 },
    { name: "test('adds one') callback", line: 17, lines: 3 },
    { name: 'run', line: 20, lines: 1 },
  ]);
});

test('a file that does not parse is an error naming it, not an empty list', () => {
  assert.throws(() => unitsOf('broken.ts', 'function ('), /^Error: broken\.ts: /);
});
