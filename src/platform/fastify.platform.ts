import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { kPendingHandshake } from '../handshake/handshake.symbols.js';
import type { HttpPlatform } from './http-platform.interface.js';

/**
 * `@nestjs/platform-fastify` copies this metadata of a route method into the route's Fastify
 * `constraints` (see its `@RouteConstraints()`); the key is its `FASTIFY_ROUTE_CONSTRAINTS_METADATA`,
 * spelled here so that Express apps need not install the Fastify adapter.
 */
export const FASTIFY_ROUTE_CONSTRAINTS_METADATA = '__fastify_route_constraints__';

/** The route constraint a WebSocket route carries on Fastify: it matches only upgrades we dispatch. */
export const WEBSOCKET_CONSTRAINT = { webSocketUpgrade: 'yes' } as const;

interface FastifyInstanceLike {
  addConstraintStrategy(strategy: unknown): void;
  hasConstraintStrategy?(name: string): boolean;
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

/** Fastify (through `@nestjs/platform-fastify`): `FastifyRequest` and `FastifyReply`. */
export const fastifyPlatform: HttpPlatform = {
  prepare(instance) {
    const fastify = instance as FastifyInstanceLike;
    if (fastify.hasConstraintStrategy?.(constraintStrategy.name)) return;
    fastify.addConstraintStrategy(constraintStrategy);
  },
  rawRequest: (request) => (request as FastifyRequestLike).raw,
  hostname: (request) => (request as FastifyRequestLike).hostname,
  routePath: (request) => (request as FastifyRequestLike).routeOptions?.url,
  params: (request) => (request as FastifyRequestLike).params ?? {},
  // Fastify keeps `reply.header()`s on the reply until it sends; `onSend` hooks never run for a 101.
  responseHeaders: (reply) => (reply as { getHeaders(): OutgoingHttpHeaders }).getHeaders(),
  hijack: (reply) => (reply as { hijack(): void }).hijack(),
  admit() {},
  release() {},
};
