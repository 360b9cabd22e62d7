/**
 * transport-lab's command line.
 *
 *   bench   run scenarios over transports and write results.json + index.html
 *   serve   run one transport's server
 *   report  render a results.json (optionally against a baseline)
 *   demo    the teaching page
 *   exec    turn a stdin/stdout program into a WebSocket server
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { choice, list, num, parse, UsageError, serveUntilSignal, bindError } from './args.ts';
import type { TransportName } from './metrics/results.ts';
import {
  HTTP_SERVER_KINDS,
  PEER_GROUP,
  WS_LOAD_CLIENTS,
  expandTransportGroups,
  transportByName,
  transportNames,
  transports as registered,
  withHttpServers,
  withNodes,
  withLinks,
  isClusterRow,
} from './transports/index.ts';
import { ensurePeer } from './transports/peers.ts';
import { nodeCounts, withRunRedis } from './cluster/run.ts';
import { createServerFor } from './transports/load.ts';
import type { Delivery } from './transports/descriptor.ts';
import { ownTrials, runBench, type PlannedScenario } from './runner/bench.ts';
import { type CpuPlan, coreCount, planCpus, tasksetAvailable } from './runner/cpus.ts';
import { SCENARIOS, SCENARIO_GROUPS, scenarioByName } from './scenarios/index.ts';
import { SHARED_FLAGS, flagHelp, readFlags } from './runner/flags.ts';
import { renderTable } from './reports/table.ts';
import { writeReport } from './reports/write.ts';
import { reportCommand } from './reports/cli.ts';
import { demoCommand } from './demo/cli.ts';
import { execCommand } from './exec/cli.ts';
import { DEFAULT_PROXY } from './path/nginx.ts';
import { LINK_PROFILES, LinkSyntaxError, type LinkProfile, parseLinks } from './path/links.ts';
import { type RunPath, targetBase, throwawayCertificate } from './path/route.ts';
import { evaluateThresholds, parseThresholds } from './path/threshold.ts';
import { writeFile } from 'node:fs/promises';

const HELP = `transport-lab — what ajax polling, long polling, SSE and WebSocket cost

usage: transport-lab <command> [options]   (in a clone: npx transport-lab …, or npm run bench -- …)

commands
  bench                 run scenarios over transports, write results.json and index.html
  serve <transport>     run one transport's server (${transportNames().join(', ')})
  report <results.json> render a results file again (--baseline, --format)
  demo                  the teaching page: four transports side by side, handshake, frames
  exec -- <program>     websocketd-style: each connection runs the program, lines ↔ messages
  agent --redis URL     a load agent for another host: runs the load processes a bench hands it

run 'transport-lab <command> --help' for a command's options; 'transport-lab --version' prints the version.`;

const PROFILES = ['quick', 'full'] as const;

function benchHelp(): string {
  const lines = [
    'usage: transport-lab bench [options]',
    '',
    `  --scenario LIST              scenarios to run (${SCENARIOS.map((s) => s.name).join(', ')}); default: all`,
    `  --transports LIST            comma-separated (${transportNames().join(', ')}); default all but the tcp ceiling`,
    `                               peer rows by name (${registered()
      .filter((d) => d.peer)
      .map((d) => d.name)
      .join(', ')}) or all as "${PEER_GROUP}"; installed on first use`,
    '  --profile quick|full         scale of every default below (default quick)',
    '  --repeat K                   run each scenario × transport K times; report medians with min–max (full: 3)',
    '  --cpus server=1,load=0|off   pin the server and load processes to disjoint CPUs (default: halves when ≥ 2 cores)',
    '  --out DIR                    output folder (default reports/out/<timestamp>/)',
    '  --ws-client own|engine|ws    client driving the websocket and ws rows: each its own (default), or one for both',
    '  --http-server LIST           express,node,h2: HTTP server(s) under the polling, long-polling and SSE rows',
    '                               (default express); node adds rows polling-node, long-polling-node, sse-node',
    '  --nodes LIST                 1,2,4: also run each transport as N server nodes behind the cluster balancer on a',
    '                               Redis backplane (rows <transport>-nN; Redis is started and stopped by the run)',
    '  --agents LIST                load agents (transport-lab agent --redis URL --name NAME) to run the load processes on',
    '  --redis URL                  the Redis the agents listen on (also the backplane of --nodes rows); needed with --agents',
    '                               (or LAB_REDIS_URL, which keeps a password out of ps and results.json)',
    '  --server-host ADDR           address the server listens on and agents connect to (default 127.0.0.1)',
    '  --secret S                   the secret the agents were started with (or LAB_AGENT_SECRET, which ps does not show)',
    '  --agents-insecure            speak to agents started with --insecure, without a secret',
    '',
    'the path between clients and server:',
    '  --via nginx                  put nginx (scripts/ensure-nginx.sh) in front of every server; adds the proxy-lessons scenario',
    '  --proxy-buffering on|off     nginx proxy_buffering (default off: SSE and long polls stream at once)',
    "  --proxy-read-timeout MS      nginx proxy_read_timeout (default 60000, nginx's own)",
    '  --proxy-send-timeout MS      nginx proxy_send_timeout (default 60000)',
    '  --tls                        https/wss with a throwaway self-signed certificate (nginx terminates it with --via nginx)',
    '  --h2c                        the *-h2 rows in cleartext with prior knowledge, which no browser does (default: TLS with ALPN h2)',
    '  --target URL                 run the load clients against a server the lab did not start (ws://, wss://, http(s)://)',
    '  --link LIST                  loopback,4g,3g or rtt=100ms,down=10mbit,up=2mbit,jitter=5ms,loss=1%: each row also over an',
    '                               emulated link (rows <transport>@<link>; loopback keeps the plain row); profiles:',
    `                               ${LINK_PROFILES.map((l) => l.name).join(', ')}`,
    '  --threshold COND             e.g. p99<50ms, echo:loss<=0.1%, msgs/s>1000, errors==0 (repeatable or comma-separated);',
    '                               a broken one makes the exit code 3, one line of reason each',
    '',
    'shared by the load-driving scenarios:',
    flagHelp(SHARED_FLAGS),
  ];
  for (const sc of SCENARIOS) {
    lines.push('', `${sc.name}: ${sc.summary}`);
    if (sc.flags && Object.keys(sc.flags).length) lines.push(flagHelp(sc.flags));
  }
  return lines.join('\n');
}

const SERVE_HELP = `usage: transport-lab serve <transport> [options]

  --port P               port (default 8080; 0 picks a free one)
  --host H               address to bind (default 127.0.0.1)
  --history N            messages kept for cursors and resume (default 10000)
  --long-poll-timeout MS long-poll hold time (default 25000)
  --max-message BYTES    largest message accepted (default 67108864)
  --heartbeat MS         WebSocket ping interval, 0 = off (default 30000)
  --max-missed N         missed pongs before a peer is dropped (default 2)
  --framework-defaults   keep express's X-Powered-By and ETag headers
  --http-server KIND     express (default), node, or h2 (node:http2 in cleartext, prior knowledge): the HTTP server under polling, long polling and SSE`;

function transportArg(v: string | undefined): TransportName {
  if (v === undefined) throw new UsageError(`serve needs a transport: ${transportNames().join(', ')}`);
  if (!transportByName(v)) throw new UsageError(`unknown transport "${v}" (known: ${transportNames().join(', ')})`);
  if (transportByName(v)!.link) throw new UsageError(`serve runs a server, not a link: serve ${transportByName(v)!.linkOf} (links are for bench --link)`);
  return v;
}

/** Every flag a bench run may take: its own, the shared ones and each scenario's. */
function benchOptions() {
  const opts: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
    scenario: { type: 'string' },
    transports: { type: 'string' },
    profile: { type: 'string' },
    repeat: { type: 'string' },
    out: { type: 'string' },
    'ws-client': { type: 'string' },
    'http-server': { type: 'string' },
    cpus: { type: 'string' },
    via: { type: 'string' },
    'proxy-buffering': { type: 'string' },
    'proxy-read-timeout': { type: 'string' },
    'proxy-send-timeout': { type: 'string' },
    tls: { type: 'boolean' },
    h2c: { type: 'boolean' },
    target: { type: 'string' },
    threshold: { type: 'string', multiple: true },
    nodes: { type: 'string' },
    agents: { type: 'string' },
    redis: { type: 'string' },
    'server-host': { type: 'string' },
    link: { type: 'string' },
    secret: { type: 'string' },
    'agents-insecure': { type: 'boolean' },
  };
  for (const name of Object.keys(SHARED_FLAGS)) opts[name] = { type: 'string' };
  for (const sc of SCENARIOS) for (const name of Object.keys(sc.flags ?? {})) opts[name] = { type: 'string' };
  return opts;
}

/** The rows a run asks for: --transports (groups and clustered rows named directly) × --http-server × --nodes × --link. */
function chosenTransports(str: (k: string) => string | undefined, route: Awaited<ReturnType<typeof runPath>>): string[] {
  const httpServers = list(str('http-server'), 'http-server', HTTP_SERVER_KINDS, ['express']);
  // A clustered row may be named directly (`--transports websocket-n8`): run as nodes, without its one-process row.
  const allNames = [...registered().map((d) => d.name), ...(str('transports') ?? '').split(',').filter(isClusterRow)];
  const links = linkArg(str('link'), route);
  return withLinks(
    withNodes(
      withHttpServers(
        expandTransportGroups(
          list(
            str('transports'),
            'transports',
            [...allNames, PEER_GROUP],
            targetDefaults(route?.target === undefined ? undefined : str('target')) ?? transportNames(),
          ),
        ),
        httpServers,
      ),
      nodeCounts(str('nodes')),
    ),
    links,
  );
}

/** --agents with the Redis they listen on and the secret that speaks to them, each checked. */
function agentFlags(
  str: (k: string) => string | undefined,
  insecure: boolean,
  controllerSecret: (secret: string | undefined, insecure: boolean) => string | undefined,
): { agents: string[]; redis: string | undefined; agentSecret: string | undefined } {
  const agents = str('agents')?.split(',').filter(Boolean) ?? [];
  // The URL may carry Redis's password: from the environment it stays out of ps and results.json.
  const redis = str('redis') ?? process.env['LAB_REDIS_URL'];
  if (agents.length && !redis) throw new UsageError('--agents needs --redis URL (or LAB_REDIS_URL): the Redis the agents listen on');
  const agentSecret = agents.length ? controllerSecret(str('secret'), insecure) : undefined;
  return { agents, redis, agentSecret };
}

async function bench(argv: string[]): Promise<number> {
  const { values } = parse(argv, benchOptions(), false);
  if (values['help']) {
    console.log(benchHelp());
    return 0;
  }
  const str = (k: string) => values[k] as string | undefined;
  const route = await runPath(str, values['tls'] === true);
  const transports = chosenTransports(str, route);
  const names = SCENARIOS.map((s) => s.name);
  // A group name (echo, throughput) stands for all of its scenarios; with nginx in the path its lessons come along.
  const requested = list(str('scenario'), 'scenario', [...names, ...Object.keys(SCENARIO_GROUPS)], DEFAULT_SCENARIOS);
  const chosen = [...new Set([...requested, ...(route?.via ? [PROXY_LESSONS] : [])].flatMap((n) => SCENARIO_GROUPS[n] ?? [n]))];
  const thresholds = (() => {
    try {
      return parseThresholds((values['threshold'] as string[] | undefined) ?? [], names);
    } catch (e) {
      throw new UsageError((e as Error).message.replace(/^--threshold: /, '--threshold: '));
    }
  })();
  const profile = choice(str('profile'), 'profile', PROFILES, 'quick');
  const repeat = num(str('repeat'), 'repeat', profile === 'full' ? 3 : 1, { min: 1, max: 100, integer: true });
  let cpus: CpuPlan;
  try {
    cpus = planCpus(str('cpus'), coreCount(), tasksetAvailable());
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const wsClient = choice(str('ws-client'), 'ws-client', WS_LOAD_CLIENTS, 'own');
  const allSpecs = { ...SHARED_FLAGS };
  for (const sc of SCENARIOS) Object.assign(allSpecs, sc.flags ?? {});
  const reader = readFlags(allSpecs, values, profile);
  const planned: PlannedScenario[] = chosen.map((n) => {
    const scenario = scenarioByName(n)!;
    const own = ownTrials(scenario, profile, str('repeat') !== undefined);
    return { scenario, params: scenario.params(reader, profile), ...(own !== undefined && { repeat: own }) };
  });
  const out = path.resolve(str('out') ?? path.join('reports', 'out', new Date().toISOString().replace(/[:.]/g, '-')));
  await mkdir(out, { recursive: true });
  const { controllerSecret, redactArgs } = await import('./agents/cli.ts');
  const command = ['transport-lab', 'bench', ...redactArgs(argv)].join(' ');
  const { agents, redis, agentSecret } = agentFlags(str, values['agents-insecure'] === true, controllerSecret);
  const serverHost = str('server-host');
  // Loaded only for a run with agents: it brings the Redis client.
  const remote = agents.length ? await import('./agents/remote-load.ts') : undefined;
  const { results, interrupted } = await withRunRedis(transports, redis, (redisUrl) =>
    runBench({
      scenarios: planned,
      transports,
      command,
      repeat,
      profile,
      run: {
        wsClient,
        cpus,
        ...(route && { path: route }),
        ...(values['h2c'] === true && { h2c: true }),
        ...(redisUrl && { redisUrl }),
        ...(remote && redisUrl && { agents: remote.loadAgents(redisUrl, agents, agentSecret) }),
        ...(serverHost && { serverHost }),
      },
    }),
  );
  const broken = evaluateThresholds(thresholds, results);
  if (thresholds.length) results.meta.thresholds = { conditions: thresholds.map((t) => t.text), broken: broken.map((b) => b.reason) };
  const written = await writeReport(out, results);
  console.log(renderTable(results));
  console.log(`results: ${written.jsonPath}`);
  console.log(`report:  ${written.htmlPath}`);
  if (interrupted) return 130;
  for (const b of broken) process.stderr.write(`transport-lab: ${b.reason}\n`);
  if (broken.length) await writeFile(path.join(out, 'thresholds.txt'), `${broken.map((b) => b.reason).join('\n')}\n`);
  return broken.length ? THRESHOLD_EXIT : 0;
}

/** Exit code of a run whose results broke a --threshold (2 is a usage error, 1 a failure of the lab). */
const THRESHOLD_EXIT = 3;

/** The scenario the lab adds when nginx is in the path: what the hop costs and the two lessons. */
const PROXY_LESSONS = 'proxy-lessons';

/** Scenarios of a run without --scenario: every one but those asked for by name alone. */
const DEFAULT_SCENARIOS = SCENARIOS.filter((s) => !s.byNameOnly).map((s) => s.name);

/** The links of `--link` (none when absent); a link cannot stand between the load and a server the lab did not start. */
function linkArg(v: string | undefined, route: RunPath | undefined): LinkProfile[] {
  if (v === undefined) return [];
  if (route?.target !== undefined) throw new UsageError("--link applies to the lab's own servers, not to a --target");
  try {
    return parseLinks(v);
  } catch (e) {
    if (e instanceof LinkSyntaxError) throw new UsageError(`--link: ${e.message}`);
    throw e;
  }
}

/** The path of a bench run from its flags; undefined for the plain path. */
async function runPath(str: (k: string) => string | undefined, tls: boolean): Promise<RunPath | undefined> {
  const via = str('via');
  const target = str('target');
  if (via !== undefined && via !== 'nginx') throw new UsageError(`--via must be nginx, got "${via}"`);
  for (const f of ['proxy-buffering', 'proxy-read-timeout', 'proxy-send-timeout'])
    if (str(f) !== undefined && via === undefined) throw new UsageError(`--${f} needs --via nginx`);
  if (target !== undefined && via !== undefined)
    throw new UsageError('--target and --via cannot go together: the lab puts nginx only in front of its own servers');
  if (target !== undefined && tls) throw new UsageError("--tls applies to the lab's own servers; for a TLS target give a wss:// or https:// --target URL");
  const route: RunPath = {};
  if (target !== undefined) {
    try {
      route.target = targetBase(target);
    } catch (e) {
      throw new UsageError(`--target: ${(e as Error).message.replace(/^--target /, '')}`);
    }
  }
  if (via === 'nginx')
    route.via = {
      kind: 'nginx',
      proxy: {
        buffering: choice(str('proxy-buffering'), 'proxy-buffering', ['on', 'off'] as const, DEFAULT_PROXY.buffering ? 'on' : 'off') === 'on',
        readTimeoutMs: num(str('proxy-read-timeout'), 'proxy-read-timeout', DEFAULT_PROXY.readTimeoutMs, { min: 1, max: 3_600_000, integer: true }),
        sendTimeoutMs: num(str('proxy-send-timeout'), 'proxy-send-timeout', DEFAULT_PROXY.sendTimeoutMs, { min: 1, max: 3_600_000, integer: true }),
      },
    };
  if (tls) route.tls = await throwawayCertificate();
  return Object.keys(route).length ? route : undefined;
}

/**
 * The rows a --target run measures when --transports is not given, from the URL: ws(s):// the
 * frame rows, an http(s) URL ending in /events the stream rows, any other http(s) URL every
 * HTTP row of the lab's contract.
 */
function targetDefaults(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const u = new URL(raw);
  const deliveries: Delivery[] =
    u.protocol === 'ws:' || u.protocol === 'wss:' ? ['frames'] : /\/events\/?$/.test(u.pathname) ? ['stream'] : ['poll', 'held-request', 'stream'];
  return transportNames().filter((n) => deliveries.includes(transportByName(n)!.traits.delivery));
}

/** How to read from a running server, by the way it delivers. */
function serveHint(delivery: Delivery, base: string): string {
  switch (delivery) {
    case 'poll':
    case 'held-request':
      return `  read:    curl '${base}/poll?cursor=0'`;
    case 'stream':
      return `  read:    curl -N ${base}/events`;
    case 'frames':
      return `  connect: ${base.replace('http', 'ws')}/`;
  }
}

async function serve(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    help: { type: 'boolean', short: 'h' },
    port: { type: 'string' },
    host: { type: 'string' },
    history: { type: 'string' },
    'long-poll-timeout': { type: 'string' },
    'max-message': { type: 'string' },
    heartbeat: { type: 'string' },
    'max-missed': { type: 'string' },
    'framework-defaults': { type: 'boolean' },
    'http-server': { type: 'string' },
  });
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`serve takes one transport, got: ${positionals.join(' ')}`);
  const transport = transportArg(positionals[0]);
  ensurePeer(transportByName(transport)!);
  const port = num(values.port, 'port', 8080, { min: 0, max: 65535, integer: true });
  const host = values.host ?? '127.0.0.1';
  const server = await createServerFor(transport, {
    history: num(values.history, 'history', 10_000, { min: 1, max: 10_000_000, integer: true }),
    longPollTimeoutMs: num(values['long-poll-timeout'], 'long-poll-timeout', 25_000, { min: 1, max: 300_000, integer: true }),
    maxMessageBytes: num(values['max-message'], 'max-message', 64 * 1024 * 1024, { min: 1, max: 2 ** 31, integer: true }),
    heartbeatIntervalMs: num(values.heartbeat, 'heartbeat', 30_000, { min: 0, integer: true }),
    maxMissedPongs: num(values['max-missed'], 'max-missed', 2, { min: 1, max: 1000, integer: true }),
    frameworkDefaults: values['framework-defaults'] ?? false,
    // Only the HTTP transports have a choice; the WebSocket rows answer upgrades on node:http alone.
    ...(transportByName(transport)?.httpServer ? { httpServer: choice(values['http-server'], 'http-server', HTTP_SERVER_KINDS, 'express') } : {}),
  });
  let bound: number;
  try {
    bound = await server.listen(port, host);
  } catch (e) {
    bindError(e, host, port);
  }
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  console.log(`${transport} server listening on ${base}`);
  if (server.transport.endsWith('-h2')) console.log('  HTTP/2 only, in cleartext with prior knowledge (no browser does that): curl --http2-prior-knowledge');
  console.log(`  publish: curl -X POST --data 'hello' ${base}/publish`);
  console.log(serveHint(transportByName(transport)!.traits.delivery, base));
  return serveUntilSignal(() => server.close());
}

/** The version in package.json, read beside this file so it holds wherever the command is started from. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return command === undefined ? 2 : 0;
    case '--version':
    case '-v':
      console.log(packageVersion());
      return 0;
    case 'bench':
      return bench(rest);
    case 'serve':
      return serve(rest);
    case 'report':
      return reportCommand(rest);
    case 'demo':
      return demoCommand(rest);
    case 'exec':
      return execCommand(rest);
    case 'agent':
      return (await import('./agents/cli.ts')).agentCommand(rest);
    default:
      throw new UsageError(`unknown command "${command}" (commands: bench, serve, report, demo, exec, agent)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`transport-lab: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`transport-lab: ${(e as Error).message ?? String(e)}\n`);
    if (process.env['DEBUG']) console.error(e);
    process.exit(1);
  },
);
