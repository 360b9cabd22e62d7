/**
 * The nginx hop of `--via nginx`: the config the lab runs nginx with, made by a pure function
 * of the options so it can be checked without nginx. Running it, and what it costs, is
 * path/nginx-process.ts's, started for a session by runner/session.ts.
 */
import path from 'node:path';

/** Where Debian's package puts nginx (scripts/ensure-nginx.sh installs it). */
export const NGINX_BIN = process.env['NGINX_PATH'] ?? '/usr/sbin/nginx';

/** How the proxy treats responses and idle upstreams: the flags of `--via nginx`. */
export interface ProxyOptions {
  /** `proxy_buffering`: off streams every byte at once (SSE, long polls); on is nginx's default. */
  buffering: boolean;
  /** `proxy_read_timeout`, ms: an upstream silent this long has its request (or upgraded connection) cut. */
  readTimeoutMs: number;
  /** `proxy_send_timeout`, ms. */
  sendTimeoutMs: number;
}

/** nginx's own defaults: buffering on, 60 s timeouts; the lab turns buffering off unless asked. */
export const DEFAULT_PROXY: ProxyOptions = { buffering: false, readTimeoutMs: 60_000, sendTimeoutMs: 60_000 };

/** Everything one generated config needs. */
export interface NginxConfigOptions extends ProxyOptions {
  /** The temp directory that holds the config, pid file, error log and temp paths. */
  dir: string;
  /** Port nginx listens on (127.0.0.1). */
  listenPort: number;
  /** Port of the lab's server behind it (127.0.0.1). */
  upstreamPort: number;
  /** Certificate and key files: nginx terminates TLS on its listener; the upstream stays plain HTTP. */
  tls?: { certFile: string; keyFile: string };
  /** Largest request body, bytes (the lab's servers take 64 MiB). */
  maxBodyBytes: number;
  /** Worker processes (default 1: the hop's CPU is then one process's, easy to read). */
  workers?: number;
  /** Connections per worker, clients and upstreams together (default 16384: the quick profile's largest runs, twice over). */
  workerConnections?: number;
}

/** The nginx.conf text for the options: one server block proxying everything to the lab's server. */
export function nginxConfig(o: NginxConfigOptions): string {
  const at = (f: string) => path.join(o.dir, f);
  const listen = `127.0.0.1:${o.listenPort}${o.tls ? ' ssl' : ''}`;
  const lines = [
    // The lab owns the process: it stays in the foreground as its child, with files in the temp dir.
    'daemon off;',
    'master_process on;',
    `worker_processes ${o.workers ?? 1};`,
    `pid ${at('nginx.pid')};`,
    `error_log ${at('error.log')} warn;`,
    'events {',
    `  worker_connections ${o.workerConnections ?? 16384};`,
    '}',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${at('client_body')};`,
    `  proxy_temp_path ${at('proxy')};`,
    `  fastcgi_temp_path ${at('fastcgi')};`,
    `  uwsgi_temp_path ${at('uwsgi')};`,
    `  scgi_temp_path ${at('scgi')};`,
    `  client_max_body_size ${o.maxBodyBytes};`,
    // Clients keep their connections as long as the lab's servers let them (65 s) and for as many requests.
    '  keepalive_timeout 65s;',
    '  keepalive_requests 1000000;',
    // An upgrade request passes its Upgrade on; any other request reaches the upstream on a kept-alive connection.
    '  map $http_upgrade $connection_upgrade {',
    '    default upgrade;',
    "    '' '';",
    '  }',
    '  upstream lab {',
    `    server 127.0.0.1:${o.upstreamPort};`,
    '    keepalive 256;',
    '  }',
    '  server {',
    `    listen ${listen};`,
    ...(o.tls ? [`    ssl_certificate ${o.tls.certFile};`, `    ssl_certificate_key ${o.tls.keyFile};`] : []),
    '    location / {',
    '      proxy_pass http://lab;',
    '      proxy_http_version 1.1;',
    '      proxy_set_header Host $host;',
    '      proxy_set_header Upgrade $http_upgrade;',
    '      proxy_set_header Connection $connection_upgrade;',
    `      proxy_buffering ${o.buffering ? 'on' : 'off'};`,
    // A server may ask for no buffering itself (X-Accel-Buffering); with buffering on, the lab shows nginx's default as it is.
    ...(o.buffering ? ['      proxy_ignore_headers X-Accel-Buffering;'] : []),
    '      proxy_request_buffering off;',
    `      proxy_read_timeout ${Math.max(1, Math.round(o.readTimeoutMs))}ms;`,
    `      proxy_send_timeout ${Math.max(1, Math.round(o.sendTimeoutMs))}ms;`,
    '    }',
    '  }',
    '}',
    '',
  ];
  return lines.join('\n');
}
