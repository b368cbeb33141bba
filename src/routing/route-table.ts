import { pathToRegexp } from 'path-to-regexp';
import type { Route } from './route.js';

/** A route found for a request path, with its decoded `:param` values. */
export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
  /**
   * The `:param` whose segment is not valid percent-encoding (e.g. `%E0%A4%A`): the path is the
   * route's, the request is malformed (`400`, as Express and Fastify answer an HTTP route).
   */
  malformedParam?: string;
}

/** What the matcher returns for a segment `decodeURIComponent()` refuses. */
class MalformedParam {
  constructor(readonly name: string) {}
}

interface ParameterizedEntry {
  route: Route;
  /** Literal segments as strings, parameters as `{ name }`. */
  segments: (string | { name: string })[];
}

const AUTHORITY_END = '/?#';

const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * Path -> route. Exact paths are a map lookup; parameterised ones are tried after, in
 * registration order. Trailing slashes are ignored, as Express and Fastify do by default.
 */
export class RouteTable {
  private readonly exact = new Map<string, Route>();
  private readonly parameterized: ParameterizedEntry[] = [];
  private readonly byController = new Map<object, Route[]>();
  /** Every pattern in Nest 12 path syntax, case-insensitive: see `owns()`. */
  private readonly patterns: { regexp: RegExp; route: Route }[] = [];
  /** Routes that share the pattern of the first route holding it (told apart by host or version). */
  private readonly siblings = new Map<Route, Route[]>();
  private count = 0;
  /** The `handshakeTimeoutMs` of every route when they share one, else undefined. */
  private sharedTimeoutMs: number | undefined;
  private timeoutsDiffer = false;

  get size(): number {
    return this.count;
  }

  /**
   * The `handshakeTimeoutMs` shared by every route, when they share one: no route lookup is then
   * needed to bound a handshake before the platform's router has matched it.
   */
  get handshakeTimeoutMs(): number | undefined {
    return this.timeoutsDiffer ? undefined : this.sharedTimeoutMs;
  }

  get routes(): Route[] {
    return [...this.byController.values()].flat();
  }

  /**
   * Adds a route; returns the route already holding the same pattern, if any (which keeps the
   * path: on an HTTP app the platform tells them apart by host or version).
   */
  add(route: Route): Route | undefined {
    this.count++;
    const { handshakeTimeoutMs } = route.options;
    if (this.count === 1) this.sharedTimeoutMs = handshakeTimeoutMs;
    else if (this.sharedTimeoutMs !== handshakeTimeoutMs) this.timeoutsDiffer = true;
    const ofController = this.byController.get(route.controller);
    if (ofController) ofController.push(route);
    else this.byController.set(route.controller, [route]);
    const pattern = normalizePath(route.path);
    const existing =
      this.exact.get(pattern) ??
      this.parameterized.find((entry) => normalizePath(entry.route.path) === pattern)?.route;
    if (existing) {
      const siblings = this.siblings.get(existing);
      if (siblings) siblings.push(route);
      else this.siblings.set(existing, [route]);
      return existing;
    }
    const loose = looseRegExp(pattern);
    if (loose) this.patterns.push({ regexp: loose, route });
    const segments = pattern
      .split('/')
      .map((segment) => (segment.startsWith(':') ? { name: segment.slice(1) } : segment));
    if (segments.some((segment) => typeof segment !== 'string')) {
      this.parameterized.push({ route, segments });
    } else {
      this.exact.set(pattern, route);
    }
    return undefined;
  }

  /**
   * The route of a controller method that the platform matched; `routePath(request)` (the
   * platform's pattern, read only when the method has several routes) tells apart the paths of one
   * method (several controller paths, URI versions).
   */
  routeOf<R>(
    controller: object,
    methodName: string | symbol,
    routePath: (request: R) => string | undefined,
    request: R,
  ): Route {
    const routes = this.byController.get(controller) ?? [];
    // the usual case: one route on the controller, one path
    if (routes.length === 1 && routes[0].methodName === methodName) return routes[0];
    const path = routePath(request);
    let found: Route | undefined;
    for (const route of routes) {
      if (route.methodName !== methodName) continue;
      if (path === undefined || normalizePath(path) === route.path) return route;
      found ??= route;
    }
    if (!found) throw new Error(`No WebSocket route for ${String(methodName)}`);
    return found;
  }

  /**
   * Whether the platform's router may take this target for one of our routes (`*splat`,
   * `{/optional}`, `*`, any case): beside other `upgrade` listeners (a `WsAdapter` gateway destroys
   * what it does not own), such a request must reach the platform, not them.
   */
  owns(target: string): boolean {
    return this.likelyRoute(target) !== undefined;
  }

  /** The route the platform's router likely takes for `target` (its options before it decides). */
  likelyRoute(target: string): Route | undefined {
    const found = this.match(target)?.route;
    if (found) return found;
    const path = pathOf(target);
    return this.patterns.find((pattern) => pattern.regexp.test(path))?.route;
  }

  /**
   * Every route whose pattern may take `target` on the platform's router (`likelyRoute()`'s
   * candidates, loosely matched): a check that every one of them refuses can refuse before the
   * router has decided.
   */
  candidates(target: string): Route[] {
    const path = pathOf(target);
    const found = this.candidatesOfPath(path, []);
    // Fastify's router decodes the path (`/ech%6F` is `/echo`), as `decodeURI()` does: reserved
    // characters (`%2F`, `%3F`) stay encoded. Express matches the path as sent.
    const decoded = decodedPath(path);
    if (decoded !== path) this.candidatesOfPath(decoded, found);
    for (let i = 0, n = found.length; i < n; i++) {
      const siblings = this.siblings.get(found[i]);
      if (siblings) found.push(...siblings);
    }
    return found;
  }

  /** Adds to `found` the routes whose pattern may take `path` (exact, `:param`, loose). */
  private candidatesOfPath(path: string, found: Route[]): Route[] {
    const matched = this.match(path)?.route;
    if (matched && !found.includes(matched)) found.push(matched);
    for (const { regexp, route } of this.patterns)
      if (!found.includes(route) && regexp.test(path)) found.push(route);
    return found;
  }

  /** Finds the route for a request target, origin or absolute form (query string ignored). */
  match(target: string): RouteMatch | undefined {
    const path = normalizePath(pathOf(target));
    const route = this.exact.get(path);
    if (route) return { route, params: NO_PARAMS };
    if (this.parameterized.length === 0) return undefined;
    const parts = path.split('/');
    let malformed: RouteMatch | undefined;
    for (const entry of this.parameterized) {
      const params = matchSegments(entry.segments, parts);
      if (params instanceof MalformedParam)
        malformed ??= { route: entry.route, params: NO_PARAMS, malformedParam: params.name };
      else if (params) return { route: entry.route, params };
    }
    // A later route that decodes wins; only then is the request malformed.
    return malformed;
  }
}

function matchSegments(
  segments: ParameterizedEntry['segments'],
  parts: string[],
): Record<string, string> | MalformedParam | undefined {
  if (segments.length !== parts.length) return undefined;
  // Literals first: a bad percent-encoding is this route's 400 only on a path of this route.
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (typeof segment === 'string' ? segment !== parts[i] : parts[i] === '') return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (typeof segment === 'string') continue;
    try {
      params[segment.name] = decodeURIComponent(parts[i]);
    } catch {
      return new MalformedParam(segment.name);
    }
  }
  return params;
}

/**
 * The path of a request target without its query: origin form (`/echo?x`) or absolute form
 * (`http://host:port/echo?x`, RFC 7230 5.3.2, which a server must accept).
 */
export function pathOf(target: string): string {
  let start = 0;
  if (target[0] !== '/') {
    const authority = target.indexOf('://');
    if (authority !== -1) {
      // The authority ends at the path, the query or the fragment (RFC 3986 3.2): in
      // `http://host?x=/echo` the path is empty, i.e. `/`.
      start = authority + 3;
      while (start < target.length && !AUTHORITY_END.includes(target[start])) start++;
      if (target[start] !== '/') return '/';
    }
  }
  const queryAt = target.indexOf('?', start);
  return target.slice(start, queryAt === -1 ? undefined : queryAt);
}

/** `path` with its percent-encoded characters decoded as `decodeURI()` does; as is if malformed. */
function decodedPath(path: string): string {
  if (!path.includes('%')) return path;
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}

/** `'//a/b/'` -> `'/a/b'`; the root stays `'/'`. */
export function normalizePath(path: string): string {
  let normalized = ('/' + path).replace(/\/{2,}/g, '/');
  if (normalized.length > 1 && normalized.endsWith('/')) normalized = normalized.slice(0, -1);
  return normalized;
}

/** `pattern` as path-to-regexp (Express 5's and Nest's matcher) reads it; Fastify's bare `*` too. */
function looseRegExp(pattern: string): RegExp | undefined {
  try {
    const nest = pattern.replace(/\*(?![\w$])/g, '*splat');
    return pathToRegexp(nest, { sensitive: false, trailing: true }).regexp;
  } catch {
    return undefined; // a Fastify-only syntax (`:id(^\\d+)`): match() alone decides
  }
}
