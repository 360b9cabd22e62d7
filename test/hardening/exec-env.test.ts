/**
 * Request headers → environment in exec: `Proxy` never becomes HTTP_PROXY
 * (httpoxy), the operator's environment wins over every request-made variable, and header
 * names that map to one variable are folded into one value instead of one replacing another.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { startExec } from '../../exec/server.ts';
import { connect } from '../../protocol/index.ts';

/** Runs `env` for one connection made with `headers`; resolves with what the program saw. */
async function programEnv(port: number, headers: Record<string, string>): Promise<Map<string, string>> {
  const conn = await connect(`ws://127.0.0.1:${port}/`, { headers });
  const env = new Map<string, string>();
  conn.on('message', (d: Buffer) => {
    const line = d.toString();
    const eq = line.indexOf('=');
    if (eq > 0) env.set(line.slice(0, eq), line.slice(eq + 1));
  });
  await once(conn, 'close');
  return env;
}

test('a Proxy header never sets HTTP_PROXY; the operator environment wins; duplicate names fold', async (t) => {
  const saved = { HTTP_X_OPERATOR: process.env['HTTP_X_OPERATOR'], SERVER_SOFTWARE: process.env['SERVER_SOFTWARE'] };
  process.env['HTTP_X_OPERATOR'] = 'from the operator';
  process.env['SERVER_SOFTWARE'] = 'operator-set';
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  const server = await startExec({ port: 0, program: 'env' });
  t.after(() => server.close());
  const env = await programEnv(server.port, {
    Proxy: 'http://evil.example:3128',
    'X-Operator': 'from the client',
    'X-Dup': 'one',
    X_Dup: 'two',
    'X-Plain': 'kept',
  });
  // The operator's own HTTP_PROXY (if this machine has one) is the only one the program may see.
  assert.equal(env.get('HTTP_PROXY'), process.env['HTTP_PROXY']);
  assert.equal(env.get('HTTP_X_OPERATOR'), 'from the operator');
  assert.equal(env.get('SERVER_SOFTWARE'), 'operator-set');
  assert.equal(env.get('HTTP_X_DUP'), 'one, two');
  assert.equal(env.get('HTTP_X_PLAIN'), 'kept');
  assert.equal(env.get('REQUEST_METHOD'), 'GET');
});
