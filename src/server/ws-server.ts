import { Injectable } from '@nestjs/common';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { webSocketUrl } from '../util/url.js';

/**
 * Where the application's WebSocket routes are served from: the application's HTTP server, or the
 * standalone server of `WsModule.forRoot({ port })`. Injectable anywhere; filled in at bootstrap.
 *
 * @example
 * ```ts
 * const app = await NestFactory.createApplicationContext(AppModule); // WsModule.forRoot({ port: 0 })
 * await app.init();
 * app.get(WsServer).url('/echo'); // 'ws://localhost:40123/echo'
 * ```
 */
@Injectable()
export class WsServer {
  private server: Server | undefined;
  private ownServer = false;

  /** The Node server the routes are attached to; `undefined` before bootstrap or with no route. */
  get httpServer(): Server | undefined {
    return this.server;
  }

  /** `true` when the routes are served from a server of their own (`port` option). */
  get isStandalone(): boolean {
    return this.ownServer;
  }

  /** `true` for a TLS server (`wss://`). */
  get isSecure(): boolean {
    return this.server instanceof TlsServer;
  }

  /** The address the server is bound to, or `null` while it does not listen. */
  address(): AddressInfo | null {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address : null;
  }

  /**
   * The `ws://` (or `wss://`) URL of `path` on this server, for clients in the same process and
   * tests; an unspecified address (`0.0.0.0`, `::`) becomes `localhost`.
   * @throws Error while the server does not listen.
   */
  url(path = '/'): string {
    const address = this.address();
    if (!address) throw new Error('The WebSocket server is not listening');
    return webSocketUrl(address, this.isSecure, path);
  }

  /** @internal Set by the module at bootstrap. */
  bind(server: Server, standalone: boolean): void {
    this.server = server;
    this.ownServer = standalone;
  }
}
