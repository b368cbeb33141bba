import { Controller, Injectable, Module, type INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import {
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
  decodeBrokerMessage,
  encodeBrokerMessage,
  type BrokerMessage,
  type BrokerStats,
  type WebSocketBroker,
} from '../../src/index.js';
import { ADAPTERS, connect, messages, startApp, until } from '../support/app.js';

/**
 * A broker written against the public interface alone, as a NATS one would be: a bus in memory
 * stands in for the server, and carries the encoded bytes. Unlike Redis, it echoes to the sender
 * too, so the broker has to drop its own messages by their origin.
 */
class MemoryBus {
  readonly members = new Set<(bytes: Buffer) => void>();
  send(bytes: Buffer): void {
    for (const member of this.members) member(Buffer.from(bytes));
  }
}

class MemoryBroker implements WebSocketBroker {
  private readonly id = randomBytes(8);
  private readonly counts = { published: 0, received: 0 };
  private listener: ((bytes: Buffer) => void) | undefined;
  constructor(private readonly bus: MemoryBus) {}

  async start(deliver: (message: BrokerMessage) => void): Promise<void> {
    this.listener = (bytes) => {
      const decoded = decodeBrokerMessage(bytes);
      if (!decoded || decoded.origin.equals(this.id)) return;
      this.counts.received++;
      deliver(decoded.message);
    };
    this.bus.members.add(this.listener);
  }
  publish(message: BrokerMessage): void {
    this.counts.published++;
    this.bus.send(encodeBrokerMessage(message, this.id));
  }
  stats(): BrokerStats {
    return { name: 'memory', connected: true, undelivered: 0, ...this.counts };
  }
  async stop(): Promise<void> {
    if (this.listener) this.bus.members.delete(this.listener);
  }
}

@Injectable()
class TopicHandler extends WebSocketHandler {
  override onOpen() {
    this.subscribe(this.params.topic);
  }
}

@Controller()
class TopicController {
  @WebSocketRoute('topics/:topic', TopicHandler)
  topic() {}
}

describe.each(ADAPTERS)('custom broker (%s)', (adapter) => {
  const apps: INestApplication[] = [];
  const clients: WebSocket[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function instance(bus: MemoryBus) {
    @Module({
      imports: [WsModule.forRoot({ broker: new MemoryBroker(bus) })],
      controllers: [TopicController],
    })
    class AppModule {}
    const { app, url } = await startApp({ imports: [AppModule] }, undefined, adapter);
    apps.push(app);
    const join = async (topic: string) => {
      const client = await connect(url(`/topics/${topic}`));
      clients.push(client);
      return client;
    };
    return { registry: app.get(WebSocketRegistry), join };
  }

  it('carries publish and broadcast to the other instance, once per socket, never back', async () => {
    const bus = new MemoryBus();
    const a = await instance(bus);
    const b = await instance(bus);
    const onA = await a.join('news');
    const onB = await b.join('news');
    const otherB = await b.join('sports');
    await until(() => a.registry.size === 1 && b.registry.size === 2);
    const gotA = messages(onA, 2);
    const gotB = messages(onB, 2);
    const gotOther = messages(otherB, 1);
    expect(a.registry.publish('news', 'headline')).toBe(1);
    a.registry.broadcast(Buffer.from([7, 7]), { path: '/topics/:topic' });
    expect(await gotA).toEqual(['headline', Buffer.from([7, 7])]);
    expect(await gotB).toEqual(['headline', Buffer.from([7, 7])]);
    expect(await gotOther).toEqual([Buffer.from([7, 7])]);
    expect(a.registry.stats().broker).toMatchObject({ name: 'memory', published: 2, received: 0 });
    expect(b.registry.stats().broker).toMatchObject({ published: 0, received: 2 });
  });
});
