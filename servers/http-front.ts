/**
 * The two HTTP fronts a transport server can run behind: express, as the lab
 * always has, or plain node:http. The contract's logic (hub, cursors, polls,
 * streams, publish, send, stats) is written once against `Exchange` and
 * `route`; a front only maps a request to a handler and a reply to its
 * framework, so what the two rows cost apart is the framework's share.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { HttpServerKind } from '../transports/descriptor.ts';

/** One request and its response, as the contract's handlers see them on either front. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The parsed query string (node's `querystring`, as express 5's default parser). */
  readonly query: Record<string, unknown>;
  /** Sends a complete reply; `type` is the media type, sent with `; charset=utf-8`. */
  send(status: number, body?: string, type?: string): void;
  /** Starts a streamed reply: status and headers now, the body by `res.write`. */
  stream(status: number, type: string, headers: Record<string, string>): void;
}

/** A route's handler; a thrown or rejected error becomes the error reply. */
export type Handler = (x: Exchange) => void | Promise<void>;

/** Turns a handler's error into a reply (headers not yet sent) or a dropped connection. */
type ErrorReply = (err: unknown, x: Exchange) => void;

/** What a front offers the shared server code. */
export interface HttpFront {
  readonly kind: HttpServerKind;
  /** Adds a route; GET routes answer HEAD too, as express does. */
  route(method: 'GET' | 'POST', path: string, h: Handler): void;
  /** Runs before routing on every request; returns true when it answered the request itself. */
  before(fn: (x: Exchange) => boolean): void;
  /** The request listener, once every route is in; `onError` answers failures, unknown paths included. */
  listener(notFound: Handler, onError: ErrorReply): RequestListener;
}

/** Creates the front of a kind. `frameworkDefaults` keeps express's X-Powered-By and ETag. */
export function createFront(kind: HttpServerKind, frameworkDefaults: boolean): HttpFront {
  // node:http2's compatibility request and response take the node:http front as they are.
  return kind === 'express' ? expressFront(frameworkDefaults) : nodeFront(kind);
}

function expressFront(frameworkDefaults: boolean): HttpFront {
  const app = express();
  if (!frameworkDefaults) {
    app.disable('x-powered-by');
    app.set('etag', false);
  }
  const exchange = (req: Request, res: Response): Exchange => ({
    req,
    res,
    query: req.query as Record<string, unknown>,
    send(status, body, type) {
      res.status(status);
      if (type) res.type(type);
      if (body === undefined) res.end();
      else res.send(body);
    },
    stream(status, type, headers) {
      res.status(status).set({ 'Content-Type': type, ...headers });
    },
  });
  let onError: ErrorReply = () => {};
  return {
    kind: 'express',
    route(method, path, h) {
      const add = method === 'GET' ? app.get.bind(app) : app.post.bind(app);
      add(path, (req: Request, res: Response) => h(exchange(req, res)));
    },
    before(fn) {
      app.use((req: Request, res: Response, next: NextFunction) => {
        if (!fn(exchange(req, res))) next();
      });
    },
    listener(notFound, errorReply) {
      onError = errorReply;
      app.use((req: Request, res: Response) => notFound(exchange(req, res)));
      app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => onError(err, exchange(req, res)));
      return app;
    },
  };
}

/** Content-Type as express writes it for a text or JSON body. */
function withCharset(type: string): string {
  return type.includes('charset') ? type : `${type}; charset=utf-8`;
}

function nodeFront(kind: 'node' | 'h2'): HttpFront {
  const routes = new Map<string, Handler>();
  const hooks: ((x: Exchange) => boolean)[] = [];
  const exchange = (req: IncomingMessage, res: ServerResponse): Exchange => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    return {
      req,
      res,
      query: q < 0 ? {} : (parseQuery(url.slice(q + 1)) as Record<string, unknown>),
      send(status, body, type) {
        res.statusCode = status;
        if (body === undefined || status === 204 || status === 304) {
          res.end();
          return;
        }
        res.setHeader('Content-Type', withCharset(type ?? 'text/html'));
        res.setHeader('Content-Length', Buffer.byteLength(body));
        res.end(body);
      },
      stream(status, type, headers) {
        res.statusCode = status;
        res.setHeader('Content-Type', withCharset(type));
        for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
      },
    };
  };
  return {
    kind,
    route(method, path, h) {
      routes.set(`${method} ${path.toLowerCase()}`, h);
    },
    before(fn) {
      hooks.push(fn);
    },
    listener(notFound, onError) {
      return (req, res) => {
        const x = exchange(req, res);
        const url = req.url ?? '/';
        const q = url.indexOf('?');
        // Express matches paths case-insensitively and with or without one trailing slash.
        let path = (q < 0 ? url : url.slice(0, q)).toLowerCase();
        if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
        const method = req.method === 'HEAD' ? 'GET' : req.method;
        try {
          for (const hook of hooks) if (hook(x)) return;
          const h = routes.get(`${method} ${path}`) ?? notFound;
          const done = h(x);
          if (done) done.catch((e: unknown) => onError(e, x));
        } catch (e) {
          onError(e, x);
        }
      };
    },
  };
}
