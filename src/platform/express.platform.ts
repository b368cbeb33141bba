import { ServerResponse, type IncomingMessage } from 'node:http';
import { PATH_METADATA } from '../internals/nest.internals.js';
import { kPendingHandshake, WEBSOCKET_ROUTE_METADATA } from '../ws.constants.js';
import type { HostnameReader, HttpPlatform } from './http-platform.interface.js';

type Middleware = (this: unknown, request: unknown, response: unknown, next: () => void) => unknown;
type RouteMethod = (this: unknown, path: unknown, ...handlers: unknown[]) => unknown;
type ExpressAppLike = Record<'get' | 'all', RouteMethod> & Record<symbol, boolean | undefined>;

const kPrepared = Symbol('nestjs-ws-routes:prepared');

/**
 * Express matches routes in order and has no route constraints: an HTTP route registered before a
 * WebSocket route at the same path would take its upgrades. So every Nest `GET`/`ALL` route
 * (registered through `app.get()`/`app.all()`, with its method's metadata) passes a handshake on
 * (`next()`), as Fastify's constraint does; WebSocket routes and middleware keep it.
 */
function routesSkipHandshakes(app: ExpressAppLike): void {
  if (app[kPrepared]) return;
  app[kPrepared] = true;
  for (const name of ['get', 'all'] as const) {
    const register = app[name];
    app[name] = function (this: unknown, path: unknown, ...handlers: unknown[]) {
      // app.get('setting') reads a setting
      if (handlers.length === 0) return register.call(this, path);
      return register.call(this, path, ...handlers.map(skipHandshakes));
    };
  }
}

/**
 * Nest's route handlers carry their method's metadata; middleware bound to a route does not. A
 * WebSocket route, the other way round, passes a plain request on before Nest runs its guards
 * (as Fastify's constraint does): a plain `GET` of the app's at the same path, or the `426`
 * answer, must not run the WebSocket route's guards too (a global ThrottlerGuard would count it
 * twice).
 */
function skipHandshakes(handler: unknown): unknown {
  if (typeof handler !== 'function' || !Reflect.hasMetadata(PATH_METADATA, handler)) return handler;
  const route = handler as Middleware;
  const takesHandshakes = Reflect.hasMetadata(WEBSOCKET_ROUTE_METADATA, handler);
  return function (this: unknown, request: unknown, response: unknown, next: () => void) {
    const handshake = (request as Record<symbol, unknown>)[kPendingHandshake] !== undefined;
    if (handshake !== takesHandshakes) return next();
    return route.call(this, request, response, next);
  };
}

/**
 * Express's `Request` is the raw `IncomingMessage` itself, with Express's prototype and the
 * middleware's additions (`cookies`, `session`, `user`).
 */
interface ExpressRequestLike extends IncomingMessage {
  hostname?: string;
  params?: Record<string, string>;
  route?: { path?: unknown };
  res?: unknown;
  next?: unknown;
  _parsedUrl?: unknown;
}

/** The `router` package's symbol fields (`router.tracing.matchedRoute`), learnt from a request. */
const routerFields: symbol[] = [];
let routerFieldsLearnt = false;

/**
 * V8 gives an object its own hidden class for every property added after `Object.setPrototypeOf`,
 * which Express calls on each request: an open connection would keep ~1 KiB of hidden classes.
 * Declared before, in the order Express and its router set them, the fields are only assigned and
 * every request shares one hidden class (named stores: keyed ones cost a few µs a handshake).
 */
function declareFields(request: IncomingMessage, response: ServerResponse): void {
  // a fresh IncomingMessage: none of them is set yet
  const fields = request as ExpressRequestLike & Record<symbol, unknown> & Record<string, unknown>;
  fields.res = undefined;
  fields.next = undefined;
  fields.baseUrl = undefined;
  fields.originalUrl = undefined;
  fields._parsedUrl = undefined;
  fields.params = undefined;
  fields.route = undefined;
  for (let i = 0; i < routerFields.length; i++) fields[routerFields[i]] = undefined;
  // The same for the response: Express adds `locals` after its `setPrototypeOf`, and Nest's
  // `res.status()` writes `statusCode`, whose default Node keeps on the prototype. Undeclared, the
  // two additions cost some 15-20 us a handshake (a profile of the storm).
  (response as ServerResponse & { locals?: unknown }).locals = undefined;
  response.statusCode = 200;
}

/**
 * Learns the `router` package's symbol fields from the first request it routed to a WebSocket
 * route: every later one gets the same.
 */
function learnRouterFields(request: IncomingMessage): void {
  if (routerFieldsLearnt) return;
  routerFieldsLearnt = true;
  for (const key of Object.getOwnPropertySymbols(request)) {
    if (key.description?.startsWith('router.')) routerFields.push(key);
  }
}

/**
 * Express's request prototype of the app (`app.request`, whose getters read `app.get('trust proxy
 * fn')`), over a view of the raw request: its `hostname` as Express will compute it.
 */
function expressHostnameReader(instance: unknown): HostnameReader | undefined {
  const prototype = (instance as { request?: object } | undefined)?.request;
  if (prototype === undefined || !('hostname' in prototype)) return undefined;
  return (request) => {
    const view = Object.create(prototype) as Pick<ExpressRequestLike, 'headers' | 'socket'>;
    view.headers = request.headers;
    view.socket = request.socket;
    return (view as ExpressRequestLike).hostname;
  };
}

/** Express (through `@nestjs/platform-express`). */
export const expressPlatform: HttpPlatform = {
  prepare: (instance) => routesSkipHandshakes(instance as ExpressAppLike),
  rawRequest: (request) => request as IncomingMessage,
  hostname: (request) => (request as ExpressRequestLike).hostname,
  hostnameReader: expressHostnameReader,
  routePath(request) {
    const path = (request as ExpressRequestLike).route?.path;
    return typeof path === 'string' ? path : undefined;
  },
  params: (request) => (request as ExpressRequestLike).params ?? {},
  commit(_response, raw, target) {
    // Hooks on `writeHead` (express-session's Set-Cookie, `on-headers`) add their headers as for
    // any answer; nothing is written (Node sends the header block with the first write, and the
    // socket goes to `ws` before any). Unhooked, Node's own `writeHead` would only build a header
    // block nobody sends.
    if (raw.writeHead !== ServerResponse.prototype.writeHead) raw.writeHead(101);
    target.committed(raw.getHeaders());
  },
  hijack() {},
  // Express links the request to its response (`req.res`, `req.next`): an open connection keeps
  // the request (`handler.request`), not the response of its handshake.
  admit: declareFields,
  release(request) {
    learnRouterFields(request);
    const express = request as ExpressRequestLike;
    express.res = undefined;
    express.next = undefined;
    // parseurl's cache of the parsed URL: recomputed on demand
    express._parsedUrl = undefined;
  },
};
