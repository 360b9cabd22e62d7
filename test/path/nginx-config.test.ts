/** The generated nginx config: streams unbuffered, upgrades passed on, timeouts and files from the options. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PROXY, nginxConfig, type NginxConfigOptions } from '../../path/nginx.ts';

const base: NginxConfigOptions = { ...DEFAULT_PROXY, dir: '/tmp/lab-x', listenPort: 8443, upstreamPort: 9001, maxBodyBytes: 1000 };

/** The directives of the config, one per line, without indentation. */
const lines = (conf: string) => conf.split('\n').map((l) => l.trim());

test('SSE and long polls are not buffered by default, and nginx does not buffer request bodies either', () => {
  const l = lines(nginxConfig(base));
  assert.ok(l.includes('proxy_buffering off;'));
  assert.ok(l.includes('proxy_request_buffering off;'));
  assert.ok(!l.some((x) => x.startsWith('proxy_ignore_headers')));
});

test('buffering on is nginx default as it is: a server cannot turn it off with X-Accel-Buffering', () => {
  const l = lines(nginxConfig({ ...base, buffering: true }));
  assert.ok(l.includes('proxy_buffering on;'));
  assert.ok(l.includes('proxy_ignore_headers X-Accel-Buffering;'));
});

test('HTTP/1.1 to the upstream with Upgrade and Connection passed on', () => {
  const l = lines(nginxConfig(base));
  assert.ok(l.includes('proxy_http_version 1.1;'));
  assert.ok(l.includes('proxy_set_header Upgrade $http_upgrade;'));
  assert.ok(l.includes('proxy_set_header Connection $connection_upgrade;'));
  // An upgrade request says "upgrade"; any other leaves Connection empty, so the upstream keeps the connection alive.
  const map = l.indexOf('map $http_upgrade $connection_upgrade {');
  assert.ok(map >= 0);
  assert.deepEqual(l.slice(map + 1, map + 3), ['default upgrade;', "'' '';"]);
  assert.ok(l.includes('server 127.0.0.1:9001;'));
  assert.ok(l.includes('proxy_pass http://lab;'));
});

test('timeouts come from the options, in ms', () => {
  const l = lines(nginxConfig({ ...base, readTimeoutMs: 1500, sendTimeoutMs: 2500 }));
  assert.ok(l.includes('proxy_read_timeout 1500ms;'));
  assert.ok(l.includes('proxy_send_timeout 2500ms;'));
});

test('foreground, its own pid, log and temp paths in the run directory, listening on 127.0.0.1 only', () => {
  const l = lines(nginxConfig(base));
  assert.ok(l.includes('daemon off;'));
  assert.ok(l.includes('pid /tmp/lab-x/nginx.pid;'));
  assert.ok(l.includes('error_log /tmp/lab-x/error.log warn;'));
  for (const p of ['client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path'])
    assert.ok(
      l.some((x) => x.startsWith(`${p} /tmp/lab-x/`)),
      p,
    );
  assert.ok(l.includes('listen 127.0.0.1:8443;'));
  assert.ok(l.includes('client_max_body_size 1000;'));
});

test('with TLS nginx terminates it on its listener and proxies plain HTTP', () => {
  const l = lines(nginxConfig({ ...base, tls: { certFile: '/tmp/lab-x/cert.pem', keyFile: '/tmp/lab-x/key.pem' } }));
  assert.ok(l.includes('listen 127.0.0.1:8443 ssl;'));
  assert.ok(l.includes('ssl_certificate /tmp/lab-x/cert.pem;'));
  assert.ok(l.includes('ssl_certificate_key /tmp/lab-x/key.pem;'));
  assert.ok(l.includes('proxy_pass http://lab;'));
});
