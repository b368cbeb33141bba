import { Controller, Injectable, Module, type INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import {
  EchoHandler,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
} from '../../src/index.js';
import { connect, startApp, until } from '../support/app.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Reads its id in its constructor, before the connection is open. */
@Injectable()
class EarlyIdHandler extends WebSocketHandler {
  static readonly ids: string[] = [];
  constructor() {
    super();
    EarlyIdHandler.ids.push(this.id);
  }
}

/** Defines an `id` of its own, as a plain-JavaScript class field would. */
@Injectable()
class OwnIdHandler extends WebSocketHandler {
  constructor() {
    super();
    Object.defineProperty(this, 'id', {
      value: 'mine',
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
}

@Controller()
class IdController {
  @WebSocketRoute('/own', OwnIdHandler)
  own() {}

  @WebSocketRoute('/plain', EchoHandler)
  plain() {}

  @WebSocketRoute('/early', EarlyIdHandler)
  early() {}
}

@Module({ imports: [WsModule.forRoot()], controllers: [IdController] })
class IdModule {}

describe('handler.id', () => {
  let app: INestApplication | undefined;
  const clients: WebSocket[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await app?.close();
    app = undefined;
  });

  async function boot() {
    const started = await startApp({ imports: [IdModule] });
    app = started.app;
    return { registry: app.get(WebSocketRegistry), url: started.url };
  }

  it('is a version 4 UUID, one of its own for each connection, and the same on every read', async () => {
    const { registry, url } = await boot();
    for (let i = 0; i < 3; i++) clients.push(await connect(url('/plain')));
    await until(() => registry.size === 3, 2000, 'three connections');
    const ids = [...registry].map((handler) => handler.id);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(3);
    expect([...registry].map((handler) => handler.id)).toEqual(ids);
    expect(ids.map((id) => registry.get(id))).toEqual([...registry]);
  });

  it('read in the constructor, it finds the connection once open and no longer once closed', async () => {
    const { registry, url } = await boot();
    EarlyIdHandler.ids.length = 0;
    const client = await connect(url('/early'));
    await until(() => registry.size === 1, 2000, 'one connection');
    const [id] = EarlyIdHandler.ids;
    expect(id).toMatch(UUID_V4);
    const [handler] = registry;
    expect(handler.id).toBe(id);
    expect(registry.get(id)).toBe(handler);
    client.close();
    await until(() => registry.size === 0, 2000, 'closed');
    expect(registry.get(id)).toBeUndefined();
  });

  it('read first after the close, it finds nothing', async () => {
    const { registry, url } = await boot();
    const client = await connect(url('/plain'));
    clients.push(await connect(url('/plain')));
    await until(() => registry.size === 2, 2000, 'two connections');
    const [first] = registry;
    client.close();
    await until(() => registry.size === 1, 2000, 'one closed');
    const closed = first.isOpen ? [...registry][1] : first;
    expect(closed.isOpen).toBe(false);
    expect(registry.get(closed.id)).toBeUndefined();
  });

  it("a subclass's own id field gives way to the connection's id, which finds it", async () => {
    const { registry, url } = await boot();
    clients.push(await connect(url('/own')));
    await until(() => registry.size === 1, 2000, 'one connection');
    const [handler] = registry;
    expect(handler.id).toMatch(UUID_V4);
    expect(registry.get(handler.id)).toBe(handler);
  });
});

describe('@WebSocketRoute()', () => {
  it('applied twice to one method, throws a TypeError naming the method', () => {
    expect(() => {
      class Twice {
        @WebSocketRoute('/a', EchoHandler)
        @WebSocketRoute('/b', EchoHandler)
        both() {}
      }
      return Twice;
    }).toThrow(
      new TypeError(
        '@WebSocketRoute() is applied twice to Twice.both: a method declares one WebSocket route. ' +
          'Declare the other path on a method of its own.',
      ),
    );
  });
});
