/**
 * The command line of load agents: `transport-lab agent`, and the controller's flags for
 * speaking to agents (`bench --agents … --secret …`). The shared secret comes from `--secret`
 * or LAB_AGENT_SECRET (which `ps` does not show), and is never printed or written to results.
 */
import { parse, UsageError } from '../args.ts';
import { channelKey } from './channel.ts';

/** The environment variable either side reads the shared secret from. */
const SECRET_ENV = 'LAB_AGENT_SECRET';
/** Shorter secrets are refused: the HMAC is only as strong as what nobody can guess. */
const MIN_SECRET_CHARS = 16;

const AGENT_HELP = `usage: transport-lab agent --redis URL [--name NAME] (--secret S | --insecure) --allow-target LIST

Runs load processes for a bench on another host (bench --agents NAME --redis URL --secret S). It
waits on the stream lab:agent:NAME in that Redis, runs the share of the load it is handed and sends
back what it measured (latency histograms encoded, merged exactly by the controller). Only a
controller holding the same secret can command it; it loads only the load clients of its own
registry, and sends traffic only to the targets it is allowed.
  --redis URL          the run's Redis (required): redis://[user:password@]host:port, or rediss://
                       for TLS (LAB_REDIS_CA names a CA file to trust besides the system's); or
                       LAB_REDIS_URL, which keeps a password out of ps
  --name NAME          this agent's name (default: the host name)
  --secret S           the secret shared with the controller, ${MIN_SECRET_CHARS}+ characters (or ${SECRET_ENV}, which ps
                       does not show): every message is authenticated with an HMAC under it
  --insecure           accept unauthenticated messages: anyone who can write to the Redis commands this agent
  --allow-target LIST  host names, addresses or CIDR ranges the agent may send traffic to (repeatable,
                       comma-separated; names are resolved at start); none by default`;

/** The secret from `--secret` or the environment, checked; undefined when neither gives one. */
function secretOf(flag: string | undefined): string | undefined {
  const s = flag ?? process.env[SECRET_ENV];
  if (s === undefined || s === '') return undefined;
  if (s.length < MIN_SECRET_CHARS)
    throw new UsageError(`--secret: the shared secret must have at least ${MIN_SECRET_CHARS} characters (e.g. openssl rand -hex 32)`);
  return s;
}

/** `transport-lab agent …`: checks the flags, then serves loads until the process is stopped. */
export async function agentCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    help: { type: 'boolean', short: 'h' },
    redis: { type: 'string' },
    name: { type: 'string' },
    secret: { type: 'string' },
    insecure: { type: 'boolean' },
    'allow-target': { type: 'string', multiple: true },
  });
  if (values.help) {
    console.log(AGENT_HELP);
    return 0;
  }
  // The URL may carry Redis's password: from the environment it stays out of ps.
  const redis = values.redis ?? process.env['LAB_REDIS_URL'];
  if (!redis) throw new UsageError('agent needs --redis URL (or LAB_REDIS_URL)');
  const secret = secretOf(values.secret);
  if (secret && values.insecure) throw new UsageError('--insecure: the agent has a secret (--secret or LAB_AGENT_SECRET); give one or the other');
  if (!secret && !values.insecure)
    throw new UsageError(
      `agent needs --secret S (or ${SECRET_ENV}), the secret shared with the controller: without one, anyone who can write to its Redis could command it (--insecure runs it so anyway)`,
    );
  const { targetPolicy } = await import('./targets.ts');
  let targets: Awaited<ReturnType<typeof targetPolicy>>;
  try {
    targets = await targetPolicy((values['allow-target'] ?? []).flatMap((v) => v.split(',')));
  } catch (e) {
    throw new UsageError(`--allow-target: ${(e as Error).message}`);
  }
  const { runAgent } = await import('./agent.ts');
  const { hostname } = await import('node:os');
  return runAgent({ redisUrl: redis, name: values.name ?? hostname(), key: channelKey(secret), targets });
}

/**
 * The controller's secret for its agents (`--secret` or LAB_AGENT_SECRET); undefined only when
 * `--agents-insecure` says the agents take unauthenticated messages.
 */
export function controllerSecret(flag: string | undefined, insecure: boolean): string | undefined {
  const secret = secretOf(flag);
  if (secret && insecure) throw new UsageError('--agents-insecure: the run has a secret for its agents (--secret or LAB_AGENT_SECRET); give one or the other');
  if (!secret && !insecure) throw new UsageError(`--agents needs --secret S (or ${SECRET_ENV}): the secret the agents were started with`);
  return secret;
}

/** A command line fit for results and logs: the value of `--secret` and passwords in URLs left out. */
export function redactArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--secret' && i + 1 < argv.length) {
      out.push(a, '…');
      i++;
    } else if (a.startsWith('--secret=')) out.push('--secret=…');
    else out.push(a.replace(/(rediss?:\/\/)[^@/\s]*@/g, '$1…@'));
  }
  return out;
}
