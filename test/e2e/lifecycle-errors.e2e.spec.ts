import {
  Catch,
  Controller,
  Injectable,
  Module,
  UseFilters,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  WebSocketCloseException,
  WebSocketHandler,
  WebSocketRoute,
  WsModule,
  type WebSocketMessage,
} from '../../src/index.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { ADAPTERS, closed, nextMessage, until } from '../support/app.js';
import { sleep, useLifecycleApp } from './lifecycle.helpers.js';

class ForbiddenError extends Error {}
class QuotaError extends Error {}
class IgnorableError extends Error {}
class SlowlyMappedError extends Error {}
class UnmappedError extends Error {}
class GlobalError extends Error {}
class ProvidedGlobalError extends Error {}

const ERRORS: Record<string, () => unknown> = {
  close: () => new WebSocketCloseException(4001, 'nope'),
  forbidden: () => new ForbiddenError('not yours'),
  quota: () => new QuotaError('too many'),
  ignorable: () => new IgnorableError('never mind'),
  slow: () => new SlowlyMappedError('wait for it'),
  unmapped: () => new UnmappedError('filter shrugs'),
  global: () => new GlobalError('everywhere'),
  provided: () => new ProvidedGlobalError('from APP_FILTER'),
  boom: () => new Error('boom'),
  'bad-code': () => new WebSocketCloseException(1006, 'cannot be sent'),
};

const filterSaw: { type: string; client: unknown; data: unknown }[] = [];

@Catch(ForbiddenError)
class ForbiddenFilter implements ExceptionFilter {
  catch(_error: ForbiddenError, host: ArgumentsHost) {
    const ws = host.switchToWs();
    filterSaw.push({ type: host.getType(), client: ws.getClient(), data: ws.getData() });
    return new WebSocketCloseException(4403, 'forbidden');
  }
}

@Catch(QuotaError)
class QuotaFilter implements ExceptionFilter {
  catch(): never {
    throw new WebSocketCloseException(4429, 'slow down');
  }
}

@Catch(IgnorableError)
class IgnoreFilter implements ExceptionFilter {
  catch(error: IgnorableError, host: ArgumentsHost) {
    host.switchToWs().getClient<WebSocketHandler>().send(`ignored: ${error.message}`);
    return true;
  }
}

@Catch(SlowlyMappedError)
class AsyncFilter implements ExceptionFilter {
  async catch() {
    await sleep(20);
    return new WebSocketCloseException(4408, 'mapped later');
  }
}

@Catch(UnmappedError)
class ShrugFilter implements ExceptionFilter {
  catch() {}
}

@Catch(GlobalError)
class GlobalFilter implements ExceptionFilter {
  catch() {
    return new WebSocketCloseException(4500, 'global filter');
  }
}

@Catch(ProvidedGlobalError)
class ProvidedFilter implements ExceptionFilter {
  catch() {
    return new WebSocketCloseException(4501, 'APP_FILTER');
  }
}

@Injectable()
class FailingHandler extends WebSocketHandler {
  override onOpen() {
    const failOpen = this.query.get('open');
    if (failOpen) throw ERRORS[failOpen]();
  }
  override onClose() {
    const failClose = this.query.get('close');
    if (failClose === 'throw') throw new Error('onClose threw');
    if (failClose === 'reject') return Promise.reject(new Error('onClose rejected'));
  }
  override onMessage(data: WebSocketMessage) {
    const [how, name] = (data as string).split(':');
    if (how === 'echo') return void this.send(name);
    const error = ERRORS[name];
    if (how === 'throw') throw error();
    return Promise.reject(error());
  }
}

@Controller('filtered')
@UseFilters(QuotaFilter)
class FilteredController {
  @WebSocketRoute('', FailingHandler)
  @UseFilters(ForbiddenFilter, IgnoreFilter, AsyncFilter, ShrugFilter)
  route(handler: FailingHandler) {
    const failController = handler.query.get('controller');
    if (failController) throw ERRORS[failController]();
  }
}

@Controller('plain')
class PlainController {
  @WebSocketRoute('', FailingHandler)
  route() {}
}

@Module({
  imports: [WsModule.forRoot({ heartbeatMs: 0 })],
  controllers: [FilteredController, PlainController],
  providers: [{ provide: APP_FILTER, useClass: ProvidedFilter }],
})
class AppModule {}

describe.each(ADAPTERS)('errors and exception filters (%s)', (adapter) => {
  const logger = new CaptureLogger();
  const server = useLifecycleApp({ imports: [AppModule] }, adapter, (app) => {
    app.useLogger(logger);
    app.useGlobalFilters(new GlobalFilter());
  });
  const routeErrors = () => logger.errors('WebSocketRoute');

  async function closeOf(path: string, message?: string) {
    logger.clear();
    const { client, handler } = await server.open(path);
    const clientClosed = closed(client);
    if (message) client.send(message);
    return { ...(await clientClosed), handler };
  }

  it.each(['throw', 'reject'])(
    "a WebSocketCloseException(4001, 'nope') (%s) arrives at the client as 4001/'nope', not logged",
    async (how) => {
      expect(await closeOf('/plain', `${how}:close`)).toMatchObject({ code: 4001, reason: 'nope' });
      expect(routeErrors()).toEqual([]);
    },
  );

  it('a WebSocketCloseException from onOpen or the controller method closes with its code too', async () => {
    expect(await closeOf('/plain?open=close')).toMatchObject({ code: 4001, reason: 'nope' });
    expect(await closeOf('/filtered?controller=close')).toMatchObject({ code: 4001 });
  });

  it("a method's @UseFilters() filter maps a domain error to 4403, with a 'ws' host holding the handler and the message", async () => {
    filterSaw.length = 0;
    const { code, reason, handler } = await closeOf('/filtered', 'throw:forbidden');
    expect({ code, reason }).toEqual({ code: 4403, reason: 'forbidden' });
    expect(filterSaw).toEqual([{ type: 'ws', client: handler, data: 'throw:forbidden' }]);
    expect(await closeOf('/filtered', 'reject:forbidden')).toMatchObject({ code: 4403 });
    expect(await closeOf('/filtered?open=forbidden')).toMatchObject({ code: 4403 });
    expect(await closeOf('/filtered?controller=forbidden')).toMatchObject({ code: 4403 });
    expect(routeErrors()).toEqual([]);
  });

  it("a controller's @UseFilters() filter applies to its routes (this one throws the close exception)", async () => {
    expect(await closeOf('/filtered', 'throw:quota')).toMatchObject({
      code: 4429,
      reason: 'slow down',
    });
  });

  it('filters are per route: the same error on a route without them closes with 1011 and is logged', async () => {
    const { code, reason, handler } = await closeOf('/plain', 'throw:forbidden');
    expect({ code, reason }).toEqual({ code: 1011, reason: 'Internal error' });
    expect(routeErrors()).toHaveLength(1);
    expect(routeErrors()[0].message).toContain(`route "/plain" (connection ${handler.id})`);
  });

  it('global filters apply to every route: useGlobalFilters() and APP_FILTER', async () => {
    expect(await closeOf('/plain', 'throw:global')).toMatchObject({ code: 4500 });
    expect(await closeOf('/filtered', 'throw:global')).toMatchObject({ code: 4500 });
    expect(await closeOf('/plain', 'reject:provided')).toMatchObject({
      code: 4501,
      reason: 'APP_FILTER',
    });
  });

  it('an async filter is awaited', async () => {
    expect(await closeOf('/filtered', 'reject:slow')).toMatchObject({
      code: 4408,
      reason: 'mapped later',
    });
  });

  it('a filter that returns a value other than a close exception handles the error: the connection stays open', async () => {
    logger.clear();
    const { client, handler } = await server.open('/filtered');
    const answer = nextMessage(client);
    client.send('throw:ignorable');
    expect(await answer).toBe('ignored: never mind');
    const echo = nextMessage(client);
    client.send('echo:still-here');
    expect(await echo).toBe('still-here');
    expect(handler.isOpen).toBe(true);
    expect(routeErrors()).toEqual([]);
  });

  it('a filter that returns nothing leaves the error unhandled: 1011, logged', async () => {
    expect(await closeOf('/filtered', 'throw:unmapped')).toMatchObject({ code: 1011 });
    expect(routeErrors()).toHaveLength(1);
    expect(routeErrors()[0].detail).toContain('filter shrugs');
  });

  it('any other error closes that connection only with 1011, logged with the route, the connection id and the stack', async () => {
    const bystander = await server.open('/plain');
    for (const how of ['throw', 'reject']) {
      const { code, reason, handler } = await closeOf('/plain', `${how}:boom`);
      expect({ code, reason }).toEqual({ code: 1011, reason: 'Internal error' });
      const [entry] = routeErrors();
      expect(routeErrors()).toHaveLength(1);
      expect(entry.message).toBe(
        `WebSocket handler of route "/plain" (connection ${handler.id}) failed; closing it with 1011`,
      );
      expect(entry.detail).toContain('Error: boom');
      expect(entry.detail).toContain('lifecycle-errors.e2e.spec.ts');
    }
    const echo = nextMessage(bystander.client);
    bystander.client.send('echo:unharmed');
    expect(await echo).toBe('unharmed');
    expect(bystander.client.readyState).toBe(WebSocket.OPEN);
  });

  it('an onClose that throws or rejects is logged as such, with the stack; other connections go on', async () => {
    const bystander = await server.open('/plain');
    for (const how of ['throw', 'reject']) {
      logger.clear();
      const { client, handler } = await server.open(`/plain?close=${how}`);
      const clientClosed = closed(client);
      client.close(4000, 'bye');
      await until(() => routeErrors().length === 1, 2000, 'the onClose error to be logged');
      const [entry] = routeErrors();
      expect(entry.message).toBe(
        `onClose of the WebSocket handler of route "/plain" (connection ${handler.id}) failed; the connection had closed already`,
      );
      expect(entry.detail).toContain(how === 'throw' ? 'onClose threw' : 'onClose rejected');
      expect((await clientClosed).code).toBe(4000);
    }
    const echo = nextMessage(bystander.client);
    bystander.client.send('echo:unharmed');
    expect(await echo).toBe('unharmed');
  });

  it('a WebSocketCloseException with a code that may not be sent closes with 1011 and logs why', async () => {
    expect(await closeOf('/plain', 'throw:bad-code')).toMatchObject({ code: 1011 });
    await until(() => routeErrors().length === 1);
    expect(routeErrors()[0].detail).toContain('InvalidCloseCodeError');
    expect(routeErrors()[0].detail).toContain('Invalid WebSocket close code 1006');
  });
});
