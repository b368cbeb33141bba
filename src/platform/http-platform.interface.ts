import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/**
 * What the handshake needs of an HTTP platform (Express, Fastify): one implementation a platform,
 * each in one file with that platform's internals.
 */
export interface HttpPlatform {
  /** Runs before Nest registers the app's routes (e.g. Fastify's route constraint). */
  prepare(instance: unknown): void;
  /** The raw `IncomingMessage` of the platform's request object. */
  rawRequest(request: unknown): IncomingMessage;
  /** The request's host name as the platform sees it (`trust proxy` / `trustProxy` honoured), no port. */
  hostname(request: unknown): string | undefined;
  /** The path pattern of the route the platform matched, e.g. `/rooms/:room`. */
  routePath(request: unknown): string | undefined;
  /** The route parameters, as the platform decoded them. */
  params(request: unknown): Record<string, string>;
  /** The headers set so far on the platform's response (`raw`: Node's response under it). */
  responseHeaders(response: unknown, raw: ServerResponse): OutgoingHttpHeaders;
  /** Tells the platform the socket was taken over (the upgrade): it must not answer. */
  hijack(response: unknown): void;
  /** Runs on a handshake's request before the app sees it (e.g. declares the fields it will set). */
  admit(request: IncomingMessage): void;
  /** Frees references the upgraded connection must not keep alive (the response, middleware state). */
  release(request: IncomingMessage): void;
}
