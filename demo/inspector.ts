/** The inspector channel: an SSE stream per page, filtered by the page's client id. */
import { type PageResponse, bufferedOf, writeTo } from './page-http.ts';

/** The open inspector streams and the events written to them. */
export class Inspector {
  private readonly readers = new Set<{ client: string; res: PageResponse }>();
  /** Called when a page's first inspector opens or its last one goes: the pane installs or drops its frame observer. */
  onReadersChanged: (client: string) => void = () => {};

  constructor(private readonly maxBuffered: number) {}

  /** Sends an event to every inspector, or to those of one page. */
  readonly inspect = (event: string, data: unknown, client?: string): void => {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const i of this.readers) {
      if (client !== undefined && i.client !== client) continue;
      writeTo(i.res, text);
      // A reader that does not keep up is cut off rather than buffered for without end; its
      // EventSource reconnects and carries on from the next event.
      if (bufferedOf(i.res) > this.maxBuffered) {
        this.readers.delete(i);
        i.res.destroy();
        this.onReadersChanged(i.client);
      }
    }
  };

  /** Whether a page has an inspector open. */
  watched(client: string): boolean {
    return [...this.readers].some((i) => i.client === client);
  }

  /** Answers `/inspect`: an event stream for the page `client`, kept alive until its reader goes. */
  open(client: string, res: PageResponse): void {
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-store');
    writeTo(res, 'retry: 1000\n\n');
    const me = { client, res };
    this.readers.add(me);
    this.onReadersChanged(client);
    const keepAlive = setInterval(() => writeTo(res, ':\n\n'), 15_000);
    res.on('close', () => {
      clearInterval(keepAlive);
      this.readers.delete(me);
      this.onReadersChanged(client);
    });
  }

  /** Ends every inspector stream. */
  close(): void {
    for (const i of this.readers) i.res.end();
    this.readers.clear();
  }
}
