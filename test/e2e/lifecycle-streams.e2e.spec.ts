import { Controller, Injectable, Module } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import {
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
  type WebSocketCloseEvent,
  type WebSocketDisconnection,
  type WebSocketMessage,
} from '../../src/index.js';
import { kStreams } from '../../src/handler/handler.symbols.js';
import { ADAPTERS, closed, until } from '../support/app.js';
import { useLifecycleApp } from './lifecycle.helpers.js';

/** What each connection saw, in order: hooks and stream events. */
const timeline = new Map<string, string[]>();
const note = (handler: WebSocketHandler, event: string) =>
  timeline.set(handler.id, [...(timeline.get(handler.id) ?? []), event]);

@Injectable()
class StreamingHandler extends WebSocketHandler {
  override onOpen() {
    note(this, 'onOpen');
    this.messages$.subscribe({
      next: (message) => note(this, `messages$ ${message as string}`),
      complete: () => note(this, 'messages$ complete'),
    });
    this.closed$.subscribe({
      next: ({ code, reason }) => note(this, `closed$ ${code} ${reason}`),
      complete: () => note(this, 'closed$ complete'),
    });
  }
  override onMessage(data: WebSocketMessage) {
    note(this, `onMessage ${data as string}`);
  }
  override onClose(code: number) {
    note(this, `onClose ${code}`);
  }
}

@Injectable()
class QuietHandler extends WebSocketHandler {
  override onMessage(data: WebSocketMessage) {
    this.send(data);
  }
}

@Controller()
class StreamsController {
  constructor(private readonly registry: WebSocketRegistry) {}

  @WebSocketRoute('streaming', StreamingHandler)
  streaming(handler: StreamingHandler) {
    note(handler, `controller (registered: ${this.registry.get(handler.id) === handler})`);
  }

  @WebSocketRoute('quiet', QuietHandler)
  quiet() {}
}

@Module({ imports: [WsModule.forRoot({ heartbeatMs: 0 })], controllers: [StreamsController] })
class AppModule {}

describe.each(ADAPTERS)('RxJS streams (%s)', (adapter) => {
  const server = useLifecycleApp({ imports: [AppModule] }, adapter);

  it('messages$ delivers every message in order, after onMessage, and completes on close; closed$ emits once', async () => {
    const { client, handler } = await server.open('/streaming');
    const sent = Array.from({ length: 100 }, (_, i) => `m${i}`);
    for (const message of sent) client.send(message);
    await until(() => timeline.get(handler.id)!.includes('messages$ m99'));
    client.close(4000, 'bye');
    await until(() => timeline.get(handler.id)!.includes('closed$ complete'));

    const seen = timeline.get(handler.id)!;
    expect(seen.filter((event) => event.startsWith('messages$ m'))).toEqual(
      sent.map((message) => `messages$ ${message}`),
    );
    expect(seen.indexOf('onMessage m0')).toBeLessThan(seen.indexOf('messages$ m0'));
    expect(seen.slice(-4)).toEqual([
      'onClose 4000',
      'messages$ complete',
      'closed$ 4000 bye',
      'closed$ complete',
    ]);
  });

  it('after the close, messages$ completes at once and closed$ replays the close', async () => {
    const { client, handler } = await server.open('/quiet');
    const clientClosed = closed(client);
    handler.close(4001, 'done');
    await clientClosed;
    await until(() => server.registry.get(handler.id) === undefined);

    const late: string[] = [];
    handler.messages$.subscribe({
      next: () => late.push('message'),
      complete: () => late.push('complete'),
    });
    let replayed: WebSocketCloseEvent | undefined;
    handler.closed$.subscribe((event) => (replayed = event));
    expect(late).toEqual(['complete']);
    expect(replayed).toEqual({ code: 4001, reason: 'done' });
  });

  it('streams cost nothing when unused: no subject is created', async () => {
    const { client, handler } = await server.open('/quiet');
    const echoed = new Promise((resolve) => client.once('message', resolve));
    client.send('ping');
    await echoed;
    expect(handler[kStreams]).toBeUndefined();
  });

  it('registry.connections$ emits each opened connection before the controller method; disconnections$ each closed one with its code and reason, before onClose', async () => {
    const opened: WebSocketHandler[] = [];
    const gone: WebSocketDisconnection[] = [];
    const subscriptions = [
      server.registry.connections$.subscribe((handler) => {
        opened.push(handler);
        note(handler, 'connections$');
      }),
      server.registry.disconnections$.subscribe((event) => {
        gone.push(event);
        note(event.handler, `disconnections$ ${event.code} ${event.reason}`);
      }),
    ];
    try {
      const first = await server.open('/streaming');
      const second = await server.open('/quiet');
      // (a connection of an earlier test may still be closing, none is still opening)
      expect(opened).toEqual([first.handler, second.handler]);

      first.client.close(4002, 'client left');
      second.handler.close(4003, 'server said so');
      const ours = () =>
        gone.filter(({ handler }) => handler === first.handler || handler === second.handler);
      await until(() => ours().length === 2);
      expect(ours().map(({ handler, code, reason }) => ({ handler, code, reason }))).toEqual(
        expect.arrayContaining([
          { handler: first.handler, code: 4002, reason: 'client left' },
          { handler: second.handler, code: 4003, reason: 'server said so' },
        ]),
      );
      await until(() => timeline.get(first.handler.id)!.includes('closed$ complete'));
      expect(timeline.get(first.handler.id)).toEqual([
        'connections$',
        'controller (registered: true)',
        'onOpen',
        'disconnections$ 4002 client left',
        'onClose 4002',
        'messages$ complete',
        'closed$ 4002 client left',
        'closed$ complete',
      ]);
    } finally {
      for (const subscription of subscriptions) subscription.unsubscribe();
    }
  });
});
