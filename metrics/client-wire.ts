/**
 * Bytes at a load process's own sockets, the client-side counterpart of the server's wire
 * meter: the one byte count left when the server is not the lab's (`--target`), and the
 * client's side of a proxy hop. Every socket the process connects is counted, by wrapping
 * `net.Socket.prototype.connect` once. Over TLS the sockets the clients hold are TLS sockets,
 * so these are the plaintext bytes above TLS.
 */
import { Socket } from 'node:net';

const sockets = new Set<Socket>();
let closedRead = 0;
let closedWritten = 0;
let installed = false;

/** Starts counting every socket this process connects from now on. */
export function countClientSockets(): void {
  if (installed) return;
  installed = true;
  const connect = Socket.prototype.connect;
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
    if (!sockets.has(this)) {
      sockets.add(this);
      this.once('close', () => {
        closedRead += this.bytesRead;
        closedWritten += this.bytesWritten;
        sockets.delete(this);
      });
    }
    return (connect as (...a: unknown[]) => Socket).apply(this, args);
  } as typeof Socket.prototype.connect;
}

/** Bytes read and written so far by this process's sockets, closed ones included. */
export function clientSocketBytes(): { read: number; written: number } {
  let read = closedRead;
  let written = closedWritten;
  for (const s of sockets) {
    read += s.bytesRead;
    written += s.bytesWritten;
  }
  return { read, written };
}
