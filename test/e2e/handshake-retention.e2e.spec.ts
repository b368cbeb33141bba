import {
  Controller,
  Injectable,
  Module,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketHandler, WebSocketRegistry, WebSocketRoute, WsModule } from '../../src/index.js';
import { ADAPTERS, connect, startApp, until } from '../support/app.js';

// What an open connection keeps of its handshake (docs/performance.md, "Where the time goes"): the platform's request
// with what guards and middleware put on it, not the handshake's response. Reachability is
// tested with WeakRefs after a full GC, not with timings or byte counts.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The handshake's response objects as the guard saw them, held weakly. */
@Injectable()
class Responses {
  refs: WeakRef<object>[] = [];
}

@Injectable()
class UserGuard implements CanActivate {
  constructor(private readonly responses: Responses) {}
  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    http.getRequest<{ user?: unknown }>().user = { name: 'ada' };
    const response = http.getResponse<{ raw?: object }>();
    this.responses.refs.push(new WeakRef(response));
    if (response.raw) this.responses.refs.push(new WeakRef(response.raw));
    return true;
  }
}

class IdleHandler extends WebSocketHandler {}

@Controller('retention')
class RetentionController {
  @WebSocketRoute('idle', IdleHandler)
  @UseGuards(UserGuard)
  idle() {}
}

@Module({
  imports: [WsModule.forRoot()],
  controllers: [RetentionController],
  providers: [Responses, UserGuard],
})
class AppModule {}

async function collect(): Promise<void> {
  // a WeakRef keeps its target until the current job ends: collect across turns
  for (let round = 0; round < 3; round++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe.each(ADAPTERS)('what an open connection keeps of its handshake (%s)', (adapter) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('keeps the request with what the guard put on it, not the response', async () => {
    const started = await startApp({ imports: [AppModule] }, undefined, adapter);
    app = started.app;
    const client = await connect(started.url('/retention/idle'));
    const registry = app.get(WebSocketRegistry);
    await until(() => registry.size === 1);
    const [handler] = [...registry];
    const refs = app.get(Responses).refs;
    expect(refs.length).toBeGreaterThan(0);

    await collect();

    expect((handler.request as { user?: unknown }).user).toEqual({ name: 'ada' });
    expect(handler.rawRequest.headers.host).toBe(`127.0.0.1:${started.port}`);
    expect(refs.map((ref) => ref.deref())).toEqual(refs.map(() => undefined));
    expect(client.readyState).toBe(client.OPEN);
    client.close();
  });
});
