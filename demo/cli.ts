/** `run.ts demo`: the teaching page with the four transports side by side. */
import { num, parse, UsageError, serveUntilSignal, bindError } from '../args.ts';
import { startDemo } from './server.ts';

const DEMO_HELP = `Usage: tsx run.ts demo [--port P] [--host H] [--h2]

Serves the teaching page on http://H:P/ (default http://127.0.0.1:8090/) and starts ajax polling,
long polling, SSE and a WebSocket server on the lab's engine, each on its own free port, so the
page can show what each one sends, counted at its own sockets.

Options:
  --port P     port of the page (default 8090)
  --host H     address to bind every server to (default 127.0.0.1)
  --h2         serve the page over HTTP/2 (https://, the lab's throwaway certificate, ALPN h2
               with HTTP/1.1 as fallback): the page, its polls, its event stream and its
               WebSockets (RFC 8441) share one connection; the link selector offers loopback only
  -h, --help   this text`;

/** Entry of `run.ts demo`; resolves with the exit code (never, while serving). */
export async function demoCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      help: { type: 'boolean', short: 'h' },
      port: { type: 'string' },
      host: { type: 'string' },
      h2: { type: 'boolean' },
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
    demo = await startDemo({ port, host, h2: values.h2 === true });
  } catch (e) {
    bindError(e, host, port);
  }
  const p = demo.ports;
  console.log(`demo: open ${demo.url}${demo.certificate ? ' (a throwaway certificate: the browser asks to accept it)' : ''}`);
  console.log(`  polling :${p.polling}, long polling :${p['long-polling']}, SSE :${p.sse}, WebSocket :${p.websocket}`);
  return serveUntilSignal(() => demo.close());
}
