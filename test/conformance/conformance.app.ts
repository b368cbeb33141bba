import { Controller, Module, type INestApplication } from '@nestjs/common';
import { afterAll, beforeAll } from 'vitest';
import { EchoHandler, WebSocketRegistry, WebSocketRoute, WsModule } from '../../src/index.js';
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

/** The conformance app of a suite, as `useConformanceApp` hands it over. */
export interface ConformanceApp {
  app: INestApplication;
  port: number;
  registry: WebSocketRegistry;
}

/** Boots the conformance app on `adapter` before the suite's tests and closes it after them. */
export function useConformanceApp(
  adapter: AdapterName,
  started: (app: ConformanceApp) => void,
): void {
  let app: INestApplication | undefined;
  beforeAll(async () => {
    const running = await startApp({ imports: [ConformanceModule] }, undefined, adapter);
    app = running.app;
    started({ app, port: running.port, registry: app.get(WebSocketRegistry) });
  });
  afterAll(() => app?.close());
}
