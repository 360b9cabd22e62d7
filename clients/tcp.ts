/**
 * Client of the raw TCP ceiling row: an HTTP Upgrade to `tcp` once, then one
 * newline-terminated line per message, one socket write per send.
 */
import { connect, type Socket } from 'node:net';
import type { ClientOptions, TransportClient } from './contract.ts';

const NL = 10;

export class TcpClient implements TransportClient {
  private socket: Socket | undefined;
  requests = 0;
  readonly emptyResponses = 0;

  constructor(private readonly o: ClientOptions) {}

  start(): Promise<void> {
    this.requests++;
    const url = new URL(this.o.baseUrl);
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    socket.setNoDelay(true);
    this.socket = socket;
    let head = true;
    let rest: Buffer = Buffer.alloc(0);
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.on('connect', () => {
        socket.write(`GET /?client=${encodeURIComponent(this.o.clientId)} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
      });
      socket.on('data', (chunk: Buffer) => {
        const now = process.hrtime.bigint();
        let buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
        if (head) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) {
            rest = Buffer.from(buf);
            return;
          }
          const status = buf.subarray(0, buf.indexOf('\r\n')).toString('latin1');
          if (!/^HTTP\/1\.1 101 /.test(status)) {
            socket.destroy();
            reject(new Error(`tcp upgrade refused: ${status}`));
            return;
          }
          head = false;
          socket.off('error', reject);
          socket.on('error', (e) => this.o.onError?.(e));
          resolve();
          buf = buf.subarray(end + 4);
        }
        let start = 0;
        let nl = buf.indexOf(NL);
        while (nl >= 0) {
          this.o.onMessage(buf.toString('latin1', start, nl), now);
          start = nl + 1;
          nl = buf.indexOf(NL, start);
        }
        rest = start < buf.length ? Buffer.from(buf.subarray(start)) : Buffer.alloc(0);
      });
    });
  }

  send(data: string): Promise<void> {
    const s = this.socket;
    if (!s || s.destroyed || !s.writable) return Promise.reject(new Error('tcp connection is not open'));
    s.write(`${data}\n`);
    return Promise.resolve();
  }

  stop(): Promise<void> {
    const s = this.socket;
    if (!s || s.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      s.once('close', () => resolve());
      s.end();
      setTimeout(() => {
        s.destroy();
        resolve();
      }, 1000).unref();
    });
  }
}
