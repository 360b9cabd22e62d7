/**
 * Wire-byte meter: counts the bytes that cross a server's TCP sockets in both
 * directions, for every connection the server accepts (also after an HTTP
 * upgrade, which keeps the same socket).
 */
import type { Socket } from 'node:net';

/** Byte totals at the socket. `read` is client → server, `written` server → client. */
export interface WireTotals {
  bytesRead: number;
  bytesWritten: number;
}

/** Counts bytes over the live and the closed sockets of one server. */
export class WireMeter {
  private readonly live = new Set<Socket>();
  private closedRead = 0;
  private closedWritten = 0;
  /** Connections accepted so far. */
  accepted = 0;

  /** Starts counting a socket; its bytes move to the closed totals when it closes. */
  track(socket: Socket): void {
    this.accepted++;
    this.live.add(socket);
    socket.once('close', () => {
      this.closedRead += socket.bytesRead;
      this.closedWritten += socket.bytesWritten;
      this.live.delete(socket);
    });
  }

  /** Bytes both ways so far on the live socket from this client port (a TLS handshake's size, read when it completes). */
  bytesOfPeer(remotePort: number | undefined): number {
    for (const s of this.live) if (s.remotePort === remotePort) return s.bytesRead + s.bytesWritten;
    return 0;
  }

  /** Connections open now. */
  get open(): number {
    return this.live.size;
  }

  /** Totals so far, closed sockets included. */
  totals(): WireTotals {
    let bytesRead = this.closedRead;
    let bytesWritten = this.closedWritten;
    for (const s of this.live) {
      bytesRead += s.bytesRead;
      bytesWritten += s.bytesWritten;
    }
    return { bytesRead, bytesWritten };
  }
}
