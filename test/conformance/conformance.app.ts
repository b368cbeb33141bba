import { Controller, Module } from '@nestjs/common';
import { EchoHandler, WebSocketRoute, WsModule } from '../../src/index.js';
import { startApp, type AdapterName } from '../support/app.js';

/** The `maxPayload` of `/small`. */
export const SMALL_MAX_PAYLOAD = 1000;

/** The reference routes of the conformance suite: echo, echo with a small `maxPayload`, echo with compression. */
@Controller()
export class ConformanceController {
  @WebSocketRoute('echo', EchoHandler)
  echo() {}

  @WebSocketRoute('small', EchoHandler, { maxPayload: SMALL_MAX_PAYLOAD })
  small() {}

  @WebSocketRoute('deflate', EchoHandler, { perMessageDeflate: true })
  deflate() {}
}

// No heartbeat: a server ping would interleave with the frames the raw client expects.
@Module({
  imports: [WsModule.forRoot({ heartbeatMs: 0, closeTimeoutMs: 1000 })],
  controllers: [ConformanceController],
})
export class ConformanceModule {}

export function startConformanceApp(adapter: AdapterName) {
  return startApp({ imports: [ConformanceModule] }, undefined, adapter);
}
