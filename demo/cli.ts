/** `run.ts demo`: the teaching page with the four transports side by side. */
import { num, parse, UsageError, serveUntilSignal, bindError } from '../args.ts';
import { startDemo } from './server.ts';

const DEMO_HELP = `Usage: tsx run.ts demo [--port P] [--host H]

Serves the teaching page on http://H:P/ (default http://127.0.0.1:8090/) and starts ajax polling,
long polling, SSE and a WebSocket server on the lab's engine, each on its own free port, so the
page can show what each one sends, counted at its own sockets.

Options:
  --port P     port of the page (default 8090)
  --host H     address to bind every server to (default 127.0.0.1)
  -h, --help   this text`;

/** Entry of `run.ts demo`; resolves with the exit code (never, while serving). */
export async function demoCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      help: { type: 'boolean', short: 'h' },
      port: { type: 'string' },
      host: { type: 'string' },
    },
    true,
  );
  if (values.help) {
    console.log(DEMO_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`demo takes no arguments, got: ${positionals.join(' ')}`);
  const port = num(values.port, 'port', 8090, { min: 0, max: 65535, integer: true });
  const host = values.host ?? '127.0.0.1';
  let demo;
  try {
    demo = await startDemo({ port, host });
  } catch (e) {
    bindError(e, host, port);
  }
  const p = demo.ports;
  console.log(`demo: open ${demo.url}`);
  console.log(`  polling :${p.polling}, long polling :${p['long-polling']}, SSE :${p.sse}, WebSocket :${p.websocket}`);
  return serveUntilSignal(() => demo.close());
}
