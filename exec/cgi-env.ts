/**
 * The environment websocketd gives the program of each connection: the CGI-style variables of
 * its request, and its headers as `HTTP_*`.
 */
import type { IncomingMessage } from 'node:http';

/** The CGI-style variables websocketd gives its programs. */
export function cgiEnv(req: IncomingMessage, serverPort: number, programName: string): Record<string, string> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const socket = req.socket;
  const env: Record<string, string> = {
    SERVER_SOFTWARE: 'transport-lab-exec',
    GATEWAY_INTERFACE: 'websocketd-CGI/0.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SERVER_NAME: (req.headers.host ?? '').replace(/:\d+$/, ''),
    SERVER_PORT: String(serverPort),
    REQUEST_METHOD: req.method ?? 'GET',
    REQUEST_URI: url,
    SCRIPT_NAME: '/',
    PATH_INFO: path,
    QUERY_STRING: q < 0 ? '' : url.slice(q + 1),
    REMOTE_ADDR: socket.remoteAddress ?? '',
    REMOTE_HOST: socket.remoteAddress ?? '',
    REMOTE_PORT: String(socket.remotePort ?? ''),
    PROGRAM: programName,
  };
  for (const [name, value] of headerEnv(req.rawHeaders)) env[name] = value;
  return env;
}

/**
 * The `HTTP_*` variables of a request's headers. Names that map to the same variable
 * (`X-Id`, `x_id`, a header sent twice) are folded into one comma-joined value, so none of them
 * silently replaces another; `Proxy` is dropped, since `HTTP_PROXY` names a proxy to many
 * programs (httpoxy, CVE-2016-5385).
 */
function headerEnv(raw: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = `HTTP_${raw[i]!.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    if (name === 'HTTP_PROXY') continue;
    const prev = out.get(name);
    out.set(name, prev === undefined ? raw[i + 1]! : `${prev}, ${raw[i + 1]!}`);
  }
  return out;
}
