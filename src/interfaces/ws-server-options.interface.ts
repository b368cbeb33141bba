import type { ServerOptions as HttpsServerOptions } from 'node:https';

/**
 * Where `WsModule` serves the routes from. Without `port`, from the application's own HTTP server;
 * with `port`, from a server of its own on that port (and only there), also in an application
 * context with no HTTP adapter (`NestFactory.createApplicationContext`).
 */
export interface WsServerOptions {
  /** Serve the routes from a server of their own on this port (`0`: any free port; see `WsServer.address()`). */
  port?: number;
  /** Interface of the standalone server. Default: all interfaces, as `app.listen(port)`. */
  host?: string;
  /** TLS options (`key`, `cert`, `ca`, ...) of the standalone server: it then serves `wss://`. */
  https?: HttpsServerOptions;
}
