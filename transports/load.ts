/**
 * Starting a transport's server and client from its registry entry. Both are imported by
 * URL, so a child process given a descriptor's modules needs no registry of its own.
 */
import type { ClientOptions, TransportClient } from '../clients/contract.ts';
import type { ServerOptions, TransportServer } from '../servers/contract.ts';
import type { ClientModule, ServerLauncher } from './descriptor.ts';
import { transport } from './index.ts';
import { importable } from './bundled.ts';

type ServerFactory = (options?: ServerOptions) => TransportServer;
type ClientClass = new (options: ClientOptions) => TransportClient;

async function exported<T>(module: string, name: string, what: string): Promise<T> {
  // In a bundled child, the module's bundled file: one instance of what it shares with the child.
  const m = (await import(await importable(module))) as Record<string, unknown>;
  const v = m[name];
  if (typeof v !== 'function') throw new Error(`${module} exports no ${what} named ${name}`);
  return v as T;
}

/** Creates (does not start) the server a launcher names. */
export async function serverFrom(launcher: ServerLauncher, options?: ServerOptions): Promise<TransportServer> {
  switch (launcher.kind) {
    case 'module':
      return (await exported<ServerFactory>(launcher.module, launcher.export, 'server factory'))({ ...options, ...launcher.options });
  }
}

/** A constructor of the client a module names, for creating many subscribers. */
export async function clientFrom(ref: ClientModule): Promise<(options: ClientOptions) => TransportClient> {
  const C = await exported<ClientClass>(ref.module, ref.export, 'client class');
  const fixed = ref.options;
  return fixed ? (o) => new C({ ...fixed, ...o }) : (o) => new C(o);
}

/** Creates the server of a registered transport. */
export function createServerFor(name: string, options?: ServerOptions): Promise<TransportServer> {
  return serverFrom(transport(name).server, options);
}

/** Creates one client of a registered transport. */
export async function createClientFor(name: string, options: ClientOptions): Promise<TransportClient> {
  return (await clientFrom(transport(name).client))(options);
}
