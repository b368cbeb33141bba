// The client tests' app, from the BUILT package (dist/src), run in the test process or as its own
// process (client.app.mjs). It follows the resume convention with the server helpers:
//
// GET /feed?topics=a,b (+ `since` from the client) sends {"hello":{"since":[…]}} first (what the
// attempt's URL carried), then subscribes to each topic from its position and sends the subscribe
// reply (`subscribedEnvelope`); publications reach it in `streamEnvelope`. A text frame
// {"close":[code, reason]} makes the server close the connection with that code.
// GET /publish takes frames [topic, data] and publishes them. GET /refused: a guard says no (403).
import 'reflect-metadata';
import { Controller, Inject, Injectable, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  RedisBroker,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
  parseSince,
  streamEnvelope,
  subscribedEnvelope,
} from '../../dist/src/index.js';
import { decorateClass, decorateMethod } from '../bench/servers/decorate.mjs';

class FeedHandler extends WebSocketHandler {
  async onOpen() {
    this.send(JSON.stringify({ hello: { since: this.query.getAll('since') } }));
    const since = parseSince(this.query);
    for (const topic of (this.query.get('topics') ?? '').split(',').filter(Boolean)) {
      const recovery = await this.subscribe(topic, { since: since.get(topic) });
      const reply = subscribedEnvelope(topic, recovery);
      if (reply && this.isOpen) this.send(reply);
    }
  }
  onMessage(frame) {
    const [code, reason] = JSON.parse(frame).close;
    this.close(code, reason);
  }
}
decorateClass(FeedHandler, [Injectable()]);

class PublishHandler extends WebSocketHandler {
  constructor(registry) {
    super();
    this.registry = registry;
  }
  onMessage(frame) {
    const [topic, data] = JSON.parse(frame);
    this.registry.publish(topic, data);
  }
}
Inject(WebSocketRegistry)(PublishHandler, undefined, 0);
decorateClass(PublishHandler, [Injectable()]);

class RefuseGuard {
  canActivate() {
    return false;
  }
}
decorateClass(RefuseGuard, [Injectable()]);

class ClientTestController {
  feed() {}
  publish() {}
  refused() {}
}
decorateMethod(ClientTestController, 'feed', [WebSocketRoute('/feed', FeedHandler)]);
decorateMethod(ClientTestController, 'publish', [WebSocketRoute('/publish', PublishHandler)]);
decorateMethod(ClientTestController, 'refused', [
  WebSocketRoute('/refused', FeedHandler),
  UseGuards(RefuseGuard),
]);
decorateClass(ClientTestController, [Controller()]);

/** Starts the app on 127.0.0.1:`port` (0: any), with Redis at `redisUrl` or in-process. */
export async function startClientApp({ redisUrl, port = 0 } = {}) {
  class AppModule {}
  decorateClass(AppModule, [
    Module({
      imports: [
        WsModule.forRoot({
          heartbeatMs: 0,
          broker: redisUrl ? new RedisBroker({ url: redisUrl, connectTimeoutMs: 2000 }) : undefined,
          history: { default: { size: 1000, ttlMs: 600_000, payload: streamEnvelope } },
        }),
      ],
      controllers: [ClientTestController],
    }),
  ]);
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(port, '127.0.0.1');
  return { app, port: app.getHttpServer().address().port };
}
