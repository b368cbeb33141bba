import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** The host name of a raw request as the platform would give it, no port. */
export type HostnameReader = (request: IncomingMessage) => string | undefined;

/** What `commit()` hands the 101's headers to (one object per handshake, no closure). */
export interface CommitTarget {
  committed(headers: OutgoingHttpHeaders): void;
}

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
  /**
   * Reads the host name of a raw request as the platform will see it (its proxy-trust setting
   * honoured), before the platform has seen the request: the origin check runs before the app.
   * Undefined when the platform does not offer it (the check then runs in the route).
   */
  hostnameReader(instance: unknown): HostnameReader | undefined;
  /** The path pattern of the route the platform matched, e.g. `/rooms/:room`. */
  routePath(request: unknown): string | undefined;
  /** The route parameters, as the platform decoded them. */
  params(request: unknown): Record<string, string>;
  /**
   * Answers a handshake the app let through as the platform answers any request, without writing
   * it (`raw`: Node's response under the platform's, still on the socket): what runs on the way
   * out runs (Express's `writeHead` hooks, Fastify's `onSend` hooks), then `target.committed()`
   * gets the headers set by then, for the 101. If the platform answers something else instead (an
   * `onSend` hook failed), that answer is written on the socket as usual and `committed()` is not
   * called. It may be called later (async hooks).
   */
  commit(response: unknown, raw: ServerResponse, target: CommitTarget): void;
  /** Tells the platform the socket was taken over (the upgrade): it must not answer. */
  hijack(response: unknown): void;
  /**
   * Runs on a handshake's request and response before the app sees them (e.g. declares the fields
   * it will set).
   */
  admit(request: IncomingMessage, response: ServerResponse): void;
  /** Frees references the upgraded connection must not keep alive (the response, middleware state). */
  release(request: IncomingMessage): void;
}
