import { Controller, Injectable, Module } from '@nestjs/common';
import {
  EchoHandler,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
} from '../../src/index.js';
import type { WebSocketDisconnection } from '../../src/index.js';

/** Module-level `handshakeTimeoutMs` of the faults app: it bounds slow handshakes. */
export const HANDSHAKE_TIMEOUT_MS = 1000;
export const CLOSE_TIMEOUT_MS = 500;
const CHUNK = Buffer.alloc(64 * 1024, 1);

/** Sends 64 KiB chunks to a peer that asked for them, until the backpressure policy closes it. */
@Injectable()
export class FloodHandler extends WebSocketHandler {
  override onMessage() {
    for (let sent = 0; this.isOpen && sent < 64 * 1024 * 1024; sent += CHUNK.length)
      this.send(CHUNK);
  }
}

/** Misbehaves as `:mode` says: `throw` or `reject` in onMessage, or an onOpen that never settles. */
@Injectable()
export class FaultyHandler extends WebSocketHandler {
  override onOpen(): unknown {
    if (this.params.mode === 'hang') return new Promise(() => undefined);
    return undefined;
  }
  override onMessage(data: string | Buffer): unknown {
    if (this.params.mode === 'throw') throw new Error('onMessage threw');
    if (this.params.mode === 'reject') return Promise.reject(new Error('onMessage rejected'));
    this.send(data);
    return undefined;
  }
}

@Controller()
export class FaultsController {
  @WebSocketRoute('echo', EchoHandler)
  echo() {}

  @WebSocketRoute('flood', FloodHandler, { maxBackpressure: 256 * 1024 })
  flood() {}

  @WebSocketRoute('faulty/:mode', FaultyHandler)
  faulty() {}
}

@Module({
  imports: [
    WsModule.forRoot({
      heartbeatMs: 0,
      closeTimeoutMs: CLOSE_TIMEOUT_MS,
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    }),
  ],
  controllers: [FaultsController],
})
export class FaultsModule {}

/** Records every disconnection of the app, by route path. */
export function recordDisconnections(registry: WebSocketRegistry): WebSocketDisconnection[] {
  const seen: WebSocketDisconnection[] = [];
  registry.disconnections$.subscribe((event) => seen.push(event));
  return seen;
}
