import type { WebSocketTrafficStats } from '../interfaces/websocket-stats.interface.js';

/** What `stats()` reads of each route: its full path pattern and its counters. */
export interface RouteTraffic {
  readonly path: string;
  readonly counters: Readonly<WebSocketTrafficStats>;
}

/** Traffic counters that start at zero (a route's own, or the sum over routes). */
export function emptyTrafficStats(): WebSocketTrafficStats {
  return {
    open: 0,
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    dropped: 0,
    sentAfterClose: 0,
  };
}

/** Each route's counters (copied) by path, and their sum. */
export function trafficByRoute(routes: Iterable<RouteTraffic>): {
  routes: Record<string, WebSocketTrafficStats>;
  total: WebSocketTrafficStats;
} {
  const byPath: Record<string, WebSocketTrafficStats> = {};
  const total = emptyTrafficStats();
  for (const route of routes) {
    const counters = { ...route.counters };
    byPath[route.path] = counters;
    for (const key of Object.keys(total) as (keyof WebSocketTrafficStats)[]) {
      total[key] += counters[key];
    }
  }
  return { routes: byPath, total };
}
