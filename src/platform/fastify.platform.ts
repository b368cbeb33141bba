import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import {
  fastifyRequestPrototype,
  replyHeadersWithoutOnSend,
} from '../internals/fastify.internals.js';
import { kPendingHandshake } from '../ws.constants.js';
import type { HostnameReader, HttpPlatform } from './http-platform.interface.js';

interface FastifyInstanceLike {
  addConstraintStrategy(strategy: unknown): void;
  hasConstraintStrategy?(name: string): boolean;
}

interface FastifyReplyLike {
  code(statusCode: number): FastifyReplyLike;
  send(): FastifyReplyLike;
}

/** Node's response, seen for its own (temporary) `writeHead`/`end` over its prototype's. */
interface OwnMethods {
  writeHead?: unknown;
  end?: unknown;
}

interface FastifyRequestLike {
  raw: IncomingMessage;
  hostname?: string;
  params?: Record<string, string>;
  routeOptions?: { url?: string };
}

/**
 * Fastify refuses two routes at one path and method, and has no `next()`: a WebSocket route is a
 * `GET` route with a constraint that only the upgrades dispatched by this library satisfy
 * (`mustMatchWhenDerived`: an upgrade never reaches a plain HTTP route), so an HTTP `@Get()` at the
 * same path keeps serving plain requests.
 */
const constraintStrategy = {
  name: 'webSocketUpgrade',
  storage() {
    const stores = new Map<string, unknown>();
    return {
      get: (value: string) => stores.get(value) ?? null,
      set: (value: string, store: unknown) => stores.set(value, store),
    };
  },
  deriveConstraint(request: IncomingMessage & Record<symbol, unknown>): string | undefined {
    return request[kPendingHandshake] === undefined ? undefined : 'yes';
  },
  mustMatchWhenDerived: true,
};

/**
 * Fastify builds its request class once, with the `trustProxy` option's getters: a view of the raw
 * request on its prototype gives the `hostname` Fastify will give. Undefined if a release moves it.
 */
function fastifyHostnameReader(instance: unknown): HostnameReader | undefined {
  const prototype = fastifyRequestPrototype(instance);
  if (prototype === undefined || !('hostname' in prototype)) return undefined;
  return (request) => {
    const view = Object.create(prototype) as { raw: IncomingMessage; hostname?: string };
    view.raw = request;
    return view.hostname;
  };
}

function isHeaders(value: unknown): value is OutgoingHttpHeaders {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sets `headers` on the raw response as `writeHead` would, except that its `Set-Cookie` lines come
 * after those already there (a middleware's `res.setHeader()`), where Node would replace them.
 */
function addHeaders(response: ServerResponse, headers: OutgoingHttpHeaders | undefined): void {
  if (headers === undefined) return;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    if (name.toLowerCase() === 'set-cookie' && response.hasHeader(name)) {
      response.appendHeader(name, value as string | readonly string[]);
    } else {
      response.setHeader(name, value);
    }
  }
}

/** Fastify (through `@nestjs/platform-fastify`): `FastifyRequest` and `FastifyReply`. */
export const fastifyPlatform: HttpPlatform = {
  prepare(instance) {
    const fastify = instance as FastifyInstanceLike;
    if (fastify.hasConstraintStrategy?.(constraintStrategy.name)) return;
    fastify.addConstraintStrategy(constraintStrategy);
  },
  rawRequest: (request) => (request as FastifyRequestLike).raw,
  hostname: (request) => (request as FastifyRequestLike).hostname,
  hostnameReader: fastifyHostnameReader,
  routePath: (request) => (request as FastifyRequestLike).routeOptions?.url,
  params: (request) => (request as FastifyRequestLike).params ?? {},
  commit(reply, raw, target) {
    const fastifyReply = reply as FastifyReplyLike;
    const response = raw as unknown as OwnMethods;
    // A middleware's own `writeHead` (express-session's Set-Cookie through middie, `on-headers`)
    // stays under ours and runs as for any answer.
    const hooked = Object.hasOwn(response, 'writeHead') ? response.writeHead : undefined;
    // No `onSend` hook and no hooked `writeHead`: `send()` would run nothing of the app before
    // writing the head, so its headers go to `ws` at once (the same headers, without the reply).
    const replyHeaders =
      hooked === undefined ? replyHeadersWithoutOnSend(reply as { request?: unknown }) : undefined;
    if (replyHeaders !== undefined) {
      addHeaders(raw, replyHeaders as OutgoingHttpHeaders);
      target.committed(raw.getHeaders());
      return;
    }
    // The 101 is sent as any reply: the `onSend` hooks run (`@fastify/cookie` writes the cookies of
    // `reply.setCookie()` there), then Fastify writes the head, where a 101 goes to `ws` instead
    // of the socket; any other answer (an `onSend` hook failed) is written as usual.
    response.writeHead = function (this: ServerResponse, statusCode: number, ...rest: unknown[]) {
      if (hooked === undefined) delete response.writeHead;
      else response.writeHead = hooked;
      if (statusCode !== 101) {
        return Reflect.apply(this.writeHead, this, [statusCode, ...rest]) as ServerResponse;
      }
      // The reply's headers join the raw response's, then the middleware's hooks add theirs on
      // top, as for a GET (on-headers applies the headers given to `writeHead` before its
      // listeners run); Set-Cookie lines add up instead of replacing each other.
      addHeaders(this, rest.findLast(isHeaders));
      // A hook that throws makes the answer an error, written as usual: `end` is still Node's.
      if (hooked !== undefined) this.writeHead(101);
      // Fastify ends the reply next: nothing of it is written (the socket goes to `ws` first).
      response.end = () => this;
      target.committed(this.getHeaders());
      return this;
    };
    fastifyReply.code(101).send();
  },
  hijack: (reply) => (reply as { hijack(): void }).hijack(),
  admit() {},
  release() {},
};
