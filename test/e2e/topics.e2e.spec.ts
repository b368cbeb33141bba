import { Controller, Injectable, Module, type INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import {
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
  type WebSocketMessage,
} from '../../src/index.js';
import { ADAPTERS, connect, messages, nextMessage, startApp, until } from '../support/app.js';

@Injectable()
class RoomHandler extends WebSocketHandler {
  constructor(private readonly registry: WebSocketRegistry) {
    super();
  }
  override onOpen() {
    this.subscribe(`room:${this.params.room}`);
  }
  override onMessage(data: WebSocketMessage) {
    if (data === 'leave') {
      this.unsubscribe(`room:${this.params.room}`);
      this.send('left');
      return;
    }
    this.registry.publish(`room:${this.params.room}`, data, { except: this });
  }
}

@Controller('rooms')
class RoomController {
  @WebSocketRoute(':room', RoomHandler)
  joined() {}
}

@Module({ imports: [WsModule.forRoot()], controllers: [RoomController] })
class AppModule {}

describe.each(ADAPTERS)('topics (%s)', (adapter) => {
  let app: INestApplication;
  let url: (path: string) => string;
  const clients: WebSocket[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await app?.close();
  });

  it('publishes to the subscribers of a topic only, except the sender', async () => {
    ({ app, url } = await startApp({ imports: [AppModule] }, undefined, adapter));
    const registry = app.get(WebSocketRegistry);
    const [a1, a2, b1] = await Promise.all(
      ['/rooms/a', '/rooms/a', '/rooms/b'].map((path) => connect(url(path))),
    );
    clients.push(a1, a2, b1);
    await until(
      () => registry.subscriberCount('room:a') === 2 && registry.subscriberCount('room:b') === 1,
    );
    const gotB: string[] = [];
    b1.on('message', (data: Buffer) => gotB.push(data.toString()));
    const gotA1: string[] = [];
    a1.on('message', (data: Buffer) => gotA1.push(data.toString()));
    const arrived = nextMessage(a2);
    a1.send('hi room a');
    expect(await arrived).toBe('hi room a');
    expect(registry.publish('room:b', 'to b')).toBe(1);
    await until(() => gotB.length === 1);
    expect(gotB).toEqual(['to b']);
    expect(gotA1).toEqual([]);
  });

  it('unsubscribes, and a closed connection leaves all its topics', async () => {
    ({ app, url } = await startApp({ imports: [AppModule] }, undefined, adapter));
    const registry = app.get(WebSocketRegistry);
    const a1 = await connect(url('/rooms/a'));
    const a2 = await connect(url('/rooms/a'));
    clients.push(a1, a2);
    await until(() => registry.subscriberCount('room:a') === 2);
    a1.send('leave');
    expect(await nextMessage(a1)).toBe('left');
    expect(registry.subscriberCount('room:a')).toBe(1);
    const [handler] = registry.filter((h) => h.topics.has('room:a'));
    expect([...handler.topics]).toEqual(['room:a']);
    a2.close();
    await until(() => registry.size === 1);
    expect(registry.subscriberCount('room:a')).toBe(0);
    expect(registry.topics()).toEqual([]);
    expect(registry.publish('room:a', 'nobody')).toBe(0);
  });

  it('publishes text as text and binary as binary, and counts what it sent', async () => {
    ({ app, url } = await startApp({ imports: [AppModule] }, undefined, adapter));
    const registry = app.get(WebSocketRegistry);
    const members = await Promise.all([connect(url('/rooms/c')), connect(url('/rooms/c'))]);
    clients.push(...members);
    await until(() => registry.subscriberCount('room:c') === 2);
    const arrivals = members.map((client) => messages(client, 2));
    const binary = Buffer.from([0xff, 0x00, 0x80]);
    expect(registry.publish('room:c', 'text ✓')).toBe(2);
    expect(registry.publish('room:c', binary)).toBe(2);
    for (const received of await Promise.all(arrivals))
      expect(received).toEqual(['text ✓', binary]);
    expect(registry.stats().routes['/rooms/:room']).toMatchObject({ open: 2, messagesOut: 4 });
    expect(registry.stats().topics).toBe(1);
  });
});
