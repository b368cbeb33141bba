import type { WebSocketBroker } from './websocket-broker.interface.js';
import type { WebSocketPresence } from './presence.interface.js';
import type { HistoryOptions } from './topic-history-options.interface.js';
import type { WebSocketRouteOptions } from './websocket-route-options.interface.js';
import type { WsServerOptions } from './ws-server-options.interface.js';

/**
 * Options of `WsModule.forRoot()`. The route options given here are the defaults of every route;
 * a route's own options override them. `port`, `host` and `https` choose where they are served from.
 */
export interface WsModuleOptions extends WebSocketRouteOptions, WsServerOptions {
  /** Most connections open at once over all routes; past it handshakes get `503`. Default unlimited. */
  maxTotalConnections?: number;

  /**
   * Carries `registry.publish()` and `registry.broadcast()` to the other instances of the
   * application, e.g. `new RedisBroker({ url })`. Default: in-process (this instance only).
   */
  broker?: WebSocketBroker;

  /**
   * Keeps the presence of topics (`handler.joinPresence()`, `registry.presence()`), e.g.
   * `new RedisPresence({ url })` to share it between instances. Default: in-process.
   */
  presence?: WebSocketPresence;

  /**
   * Which topics keep history, giving each publication a position `{ offset, epoch }` and letting
   * `handler.subscribe(topic, { since })` resume (per topic pattern, or `default`). Default: none.
   */
  history?: HistoryOptions;
}
