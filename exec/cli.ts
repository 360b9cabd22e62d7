/** `run.ts exec`: websocketd mode on the lab's engine. */
import { statSync } from 'node:fs';
import { num, parse, UsageError, serveUntilSignal, bindError } from '../args.ts';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_MAX_FORKS, DEFAULT_MAX_LINE, DEFAULT_MAX_MISSED, resolveProgram, startExec } from './server.ts';

const EXEC_HELP = `Usage: tsx run.ts exec [options] -- <program> [args…]

Turns a program that reads stdin and writes stdout into a WebSocket server: one process per
connection, each stdout line one text message, each message received one stdin line.
When the program exits the connection closes: 1000 for exit code 0, 1011 with "exit code N"
or "killed by SIGNAL" otherwise. When the connection closes, the program's stdin is closed,
then its process group (the program and whatever it started) gets SIGTERM after --grace ms,
then SIGKILL.

Options:
  --port P            port to listen on (default 8080)
  --host H            address to bind (default 127.0.0.1)
  --allow-origin O    accept only this Origin (repeat or comma-separate; default: any origin)
  --static DIR        serve the files in DIR over plain HTTP on the same port
  --max-line BYTES    longest stdout line (default ${DEFAULT_MAX_LINE}); a longer line closes the
                      connection with 1009 (message too big) and ends the program
  --grace MS          time between stdin end, SIGTERM and SIGKILL (default 2000)
  --max-forks N       most programs running at once (default ${DEFAULT_MAX_FORKS}); past it an upgrade
                      is answered 503 Service Unavailable with Retry-After: 1
  --heartbeat MS      ping every connection this often, 0 = never (default ${DEFAULT_HEARTBEAT_MS})
  --max-missed N      unanswered pings before a connection is dropped and its program
                      ended (default ${DEFAULT_MAX_MISSED})
  -h, --help          this text

The program sees websocketd's CGI-style variables: REMOTE_ADDR, REMOTE_PORT, SERVER_NAME,
SERVER_PORT, REQUEST_URI, PATH_INFO, QUERY_STRING, HTTP_ORIGIN and an HTTP_* for every header
(except Proxy; headers that map to one name are joined with ", "). The server's own
environment wins over all of them.

Example: npx transport-lab exec --port 8080 --static examples -- examples/count.sh`;

/** Entry of `run.ts exec`; resolves with the exit code (never, while serving). */
export async function execCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    help: { type: 'boolean', short: 'h' },
    port: { type: 'string' },
    host: { type: 'string' },
    'allow-origin': { type: 'string', multiple: true },
    static: { type: 'string' },
    'max-line': { type: 'string' },
    grace: { type: 'string' },
    'max-forks': { type: 'string' },
    heartbeat: { type: 'string' },
    'max-missed': { type: 'string' },
  });
  if (values.help) {
    console.log(EXEC_HELP);
    return 0;
  }
  const [program, ...args] = positionals;
  if (program === undefined) throw new UsageError('exec needs a program: tsx run.ts exec --port 8080 -- ./count.sh');
  const port = num(values.port, 'port', 8080, { min: 0, max: 65535, integer: true });
  const host = values.host ?? '127.0.0.1';
  const maxLineBytes = num(values['max-line'], 'max-line', DEFAULT_MAX_LINE, { min: 1, max: 2 ** 30, integer: true });
  const killGraceMs = num(values.grace, 'grace', 2000, { min: 0, max: 600_000, integer: true });
  const maxForks = num(values['max-forks'], 'max-forks', DEFAULT_MAX_FORKS, { min: 1, max: 100_000, integer: true });
  const heartbeatIntervalMs = num(values.heartbeat, 'heartbeat', DEFAULT_HEARTBEAT_MS, { min: 0, max: 3_600_000, integer: true });
  const maxMissedPongs = num(values['max-missed'], 'max-missed', DEFAULT_MAX_MISSED, { min: 1, max: 1000, integer: true });
  const allowOrigins = (values['allow-origin'] ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  for (const o of allowOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new UsageError(`--allow-origin: "${o}" is not an origin like http://example.com:8080`);
  }
  const staticDir = values.static;
  if (staticDir !== undefined) {
    let isDir = false;
    try {
      isDir = statSync(staticDir).isDirectory();
    } catch {
      // reported below
    }
    if (!isDir) throw new UsageError(`--static: ${staticDir} is not a folder`);
  }
  // Checked before listening, so a typo never leaves a server that fails every connection.
  const found = resolveProgram(program);
  if ('error' in found) throw new UsageError(found.error);

  let server;
  try {
    server = await startExec({
      program,
      args,
      port,
      host,
      allowOrigins,
      maxLineBytes,
      killGraceMs,
      maxForks,
      heartbeatIntervalMs,
      maxMissedPongs,
      ...(staticDir !== undefined && { staticDir }),
      log: (line) => console.error(`exec: ${line}`),
    });
  } catch (e) {
    bindError(e, host, port);
  }
  const base = `${host.includes(':') ? `[${host}]` : host}:${server.port}`;
  console.log(`exec: ws://${base}/ runs ${[program, ...args].join(' ')} per connection`);
  if (staticDir !== undefined) console.log(`exec: serving ${staticDir} at http://${base}/`);
  if (allowOrigins.length > 0) console.log(`exec: allowed origins: ${allowOrigins.join(', ')}`);
  return serveUntilSignal(() => server.close());
}
