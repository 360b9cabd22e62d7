/**
 * Lists the lab's long units: every source file over 400 lines and every function or method over
 * 80, read from the syntax tree (a function's lines run from its head to its closing brace).
 *
 *   npm run units [-- <project dir>]
 *
 * A long unit is one a reader cannot hold at once; the list says where to split next.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseSync } from 'oxc-parser';
import { sourceFiles } from '../test/layers.ts';

/** A file over this many lines is listed. */
export const FILE_LINES = 400;
/** A function over this many lines is listed. */
export const FUNCTION_LINES = 80;

/** One function or method: where it starts and how many lines it spans. */
export interface Unit {
  /** Its name, with the names of the classes and functions around it (`Session.drain`, `run › step`). */
  name: string;
  /** 1-based line of its first line. */
  line: number;
  lines: number;
}

type Node = { type: string; start: number; end: number; [k: string]: unknown };

const isNode = (x: unknown): x is Node => typeof x === 'object' && x !== null && typeof (x as Node).type === 'string';
const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/** The name a key gives (`foo`, `'foo'`, `#foo`, `[computed]`). */
function keyName(key: unknown): string | undefined {
  if (!isNode(key)) return undefined;
  if (key.type === 'Identifier' || key.type === 'PrivateIdentifier') return (key.type === 'PrivateIdentifier' ? '#' : '') + String(key['name']);
  if (key.type === 'Literal') return String(key['value']);
  return '[computed]';
}

/** A call's callee as written, when it is a name or a member chain (`test`, `server.on`). */
function calleeName(c: unknown): string {
  if (!isNode(c)) return '(call)';
  if (c.type === 'Identifier') return String(c['name']);
  if (c.type === 'MemberExpression') return `${calleeName(c['object'])}.${keyName(c['property']) ?? '?'}`;
  if (c.type === 'ThisExpression') return 'this';
  return '(call)';
}

/** Every function and method of one file's source, outermost first. */
export function unitsOf(file: string, text: string): Unit[] {
  const { program, errors } = parseSync(file, text);
  if (errors.length > 0) throw new Error(`${file}: ${errors[0]!.message}`);
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const out: Unit[] = [];
  // The name a function takes from what holds it: a declaration, a method, a property, a variable.
  const named = new Map<Node, { name: string; span: Node }>();
  // A name inside a class reads `Class.method`, inside a function `outer › inner`.
  const join = (scope: string, name: string, inClass: boolean) => (scope ? `${scope}${inClass ? '.' : ' › '}${name}` : name);
  const visit = (n: Node, scope: string, inClass: boolean) => {
    if (n.type === 'ClassDeclaration' || n.type === 'ClassExpression') {
      scope = join(scope, keyName(n['id']) ?? '(class)', inClass);
      inClass = true;
    } else if (
      (n.type === 'MethodDefinition' || n.type === 'Property' || n.type === 'PropertyDefinition') &&
      isNode(n['value']) &&
      FUNCTIONS.has(n['value'].type)
    )
      named.set(n['value'], { name: keyName(n['key']) ?? '(key)', span: n });
    else if (n.type === 'VariableDeclarator' && isNode(n['init']) && FUNCTIONS.has(n['init'].type))
      named.set(n['init'], { name: keyName(n['id']) ?? '(binding)', span: n });
    else if ((n.type === 'CallExpression' || n.type === 'NewExpression') && Array.isArray(n['arguments'])) {
      // A callback is known by its call: `test('its title')`, `new Promise`.
      const [first] = n['arguments'] as unknown[];
      const title = isNode(first) && first.type === 'Literal' && typeof first['value'] === 'string' ? `('${first['value'].slice(0, 40)}')` : '';
      const call = `${n.type === 'NewExpression' ? 'new ' : ''}${calleeName(n['callee'])}${title}`;
      for (const a of n['arguments'] as unknown[])
        if (isNode(a) && FUNCTIONS.has(a.type) && !keyName(a['id'])) named.set(a, { name: `${call} callback`, span: a });
    }
    if (FUNCTIONS.has(n.type)) {
      const by = named.get(n);
      const span = by?.span ?? n;
      const line = lineOf(span.start);
      scope = join(scope, by?.name ?? keyName(n['id']) ?? `(anonymous, line ${line})`, inClass);
      inClass = false;
      out.push({ name: scope, line, lines: lineOf(span.end) - line + 1 });
    }
    for (const v of Object.values(n)) {
      if (Array.isArray(v)) for (const c of v) isNode(c) && visit(c, scope, inClass);
      else if (isNode(v)) visit(v, scope, inClass);
    }
  };
  visit(program as unknown as Node, '', false);
  return out;
}

/** What is too long under `root`: files over `FILE_LINES` lines, functions over `FUNCTION_LINES`, longest first. */
export function longUnits(root: string): { files: { file: string; lines: number }[]; functions: (Unit & { file: string })[] } {
  const files: { file: string; lines: number }[] = [];
  const functions: (Unit & { file: string })[] = [];
  for (const file of sourceFiles(root)) {
    const text = readFileSync(path.join(root, file), 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > FILE_LINES) files.push({ file, lines });
    for (const u of unitsOf(file, text)) if (u.lines > FUNCTION_LINES) functions.push({ file, ...u });
  }
  files.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file));
  functions.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line);
  return { files, functions };
}

if (process.argv[1] !== undefined && import.meta.filename === path.resolve(process.argv[1])) {
  const root = path.resolve(process.argv[2] ?? '.');
  const { files, functions } = longUnits(root);
  console.log(`${files.length} files over ${FILE_LINES} lines:`);
  for (const f of files) console.log(`  ${String(f.lines).padStart(5)}  ${f.file}`);
  console.log(`${functions.length} functions over ${FUNCTION_LINES} lines:`);
  for (const f of functions) console.log(`  ${String(f.lines).padStart(5)}  ${f.file}:${f.line}  ${f.name}`);
}
