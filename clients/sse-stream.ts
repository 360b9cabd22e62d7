/**
 * A held GET read below undici's body stream: the request goes out as `request()` would send it
 * (the same dispatcher and options, so the same bytes), and each read of the body reaches
 * `onRead` as undici's HTTP parser hands it over. A `request()` body is a Readable that queues
 * every read, schedules its emission on the next tick and, iterated, makes a promise per read;
 * an event stream is read for its whole life, so that cost is paid per message.
 */
import type { Dispatcher } from 'undici';

/** An open stream: `ended` settles when its body ends (resolved) or fails (rejected, also on abort). */
export interface OpenStream {
  ended: Promise<void>;
}

/** The most of a refusal's body kept for its error message, characters. */
const MAX_ERROR_BODY = 4096;

/**
 * Sends `options` on `dispatcher` and resolves once a 200 response head arrived; every read of
 * its body then goes to `onRead`. Another status rejects with the status and the body's text.
 */
export function openStream(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  signal: AbortSignal,
  onRead: (chunk: Buffer) => void,
): Promise<OpenStream> {
  return new Promise((resolveHead, rejectHead) => {
    let headSettled = false;
    let endResolve!: () => void;
    let endReject!: (e: Error) => void;
    const ended = new Promise<void>((resolve, reject) => {
      endResolve = resolve;
      endReject = reject;
    });
    // Nobody awaits `ended` when the head already failed: that rejection is the head's.
    ended.catch(() => {});
    let status = 0;
    let errorText = '';
    let controller: Dispatcher.DispatchController | undefined;
    const onAbort = (): void => controller?.abort(signal.reason);
    const fail = (e: Error): void => {
      signal.removeEventListener('abort', onAbort);
      if (!headSettled) {
        headSettled = true;
        rejectHead(e);
      }
      endReject(e);
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (signal.aborted) c.abort(signal.reason);
        else signal.addEventListener('abort', onAbort, { once: true });
      },
      onResponseStart(_c, statusCode) {
        status = statusCode;
        if (status === 200) {
          headSettled = true;
          resolveHead({ ended });
        }
      },
      onResponseData(_c, chunk) {
        if (status === 200) onRead(chunk);
        else if (errorText.length < MAX_ERROR_BODY) errorText += chunk.toString('utf8');
      },
      onResponseEnd() {
        signal.removeEventListener('abort', onAbort);
        if (status === 200) endResolve();
        else fail(new Error(`GET ${options.path} answered ${status}: ${errorText}`));
      },
      onResponseError(_c, err) {
        fail(err);
      },
    };
    try {
      dispatcher.dispatch(options, handler);
    } catch (e) {
      fail(e as Error);
    }
  });
}
