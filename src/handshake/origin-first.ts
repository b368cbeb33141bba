import type { IncomingMessage } from 'node:http';
import type { HandshakeRejection } from '../errors/handshake-rejection.js';
import type { HostnameReader } from '../platform/http-platform.interface.js';
import type { Route } from '../routing/route.js';
import type { RouteTable } from '../routing/route-table.js';
import { checkOrigin } from './handshake.validator.js';

const NO_ROUTES: readonly Route[] = [];

/**
 * The origin check before any code of the app (middleware, hooks, router, guards) on an HTTP app: a
 * refused origin costs the app nothing (no guard's budget, no session touched). The route is not
 * known yet, so every route whose pattern may take the path is asked (usually one): the request is
 * refused when all refuse; the routes that let it in are returned, and a route the platform's router
 * picks outside them is checked once it is known (`UpgradeDispatcher.checkRoute`).
 */
export class OriginFirstCheck {
  /** Whether a route has `allowedOrigins` (else a request without `Origin` passes every rule). */
  private readonly originPredicates: boolean;

  constructor(
    private readonly table: RouteTable,
    /** The host name as the platform will see it; undefined: the check runs in the route only. */
    private readonly readHostname: HostnameReader | undefined,
  ) {
    this.originPredicates = table.routes.some((route) => route.options.allowedOrigins);
  }

  check(request: IncomingMessage): readonly Route[] | HandshakeRejection {
    const readHostname = this.readHostname;
    if (readHostname === undefined) return NO_ROUTES;
    if (request.headers.origin === undefined && !this.originPredicates) return NO_ROUTES;
    const candidates = this.table.candidates(request.url ?? '/');
    if (candidates.length === 0) return NO_ROUTES;
    let refusal: HandshakeRejection | undefined;
    let hostname: string | undefined;
    let read = false;
    const hostnameOnce = () => {
      if (!read) hostname = readHostname(request);
      read = true;
      return hostname;
    };
    const allowed = candidates.filter((route) => {
      const rejection = checkOrigin(request, route.options, hostnameOnce);
      refusal ??= rejection;
      return rejection === undefined;
    });
    return allowed.length === 0 && refusal !== undefined ? refusal : allowed;
  }
}
