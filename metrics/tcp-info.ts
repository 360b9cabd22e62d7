/**
 * Socket bytes of a server the lab cannot hook into (uWebSockets.js keeps its sockets in C++,
 * websocketd is a Go program): the kernel's tcp_info of every established connection on the
 * server's port, read with `ss` (iproute2). It sees the connections open at the time of reading
 * only: the bytes of a connection that closed before are not counted, which the rows that use
 * it state.
 */
import { execFileSync } from 'node:child_process';

/** Socket byte totals of the connections open now on one local port. */
export interface TcpPortBytes {
  /** Established connections on the port. */
  open: number;
  /** Payload bytes received from the clients (tcp_info bytes_received). */
  bytesRead: number;
  /** Payload bytes the clients acknowledged (tcp_info bytes_acked). */
  bytesWritten: number;
}

/** Sums tcp_info over the established connections whose local port is `port`; zeros when `ss` is missing. */
export function tcpPortBytes(port: number): TcpPortBytes {
  let text: string;
  try {
    text = execFileSync('ss', ['-tinHn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  } catch {
    return { open: 0, bytesRead: 0, bytesWritten: 0 };
  }
  return parseSs(text);
}

/** Parses `ss -tinH` output: one header line per connection, its tcp_info on the next. */
function parseSs(text: string): TcpPortBytes {
  let open = 0;
  let bytesRead = 0;
  let bytesWritten = 0;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) open++;
    const r = /\bbytes_received:(\d+)/.exec(line);
    const w = /\bbytes_acked:(\d+)/.exec(line);
    if (r) bytesRead += Number(r[1]);
    if (w) bytesWritten += Number(w[1]);
  }
  return { open, bytesRead, bytesWritten };
}
