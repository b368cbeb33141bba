// One instance of a history test app, from the BUILT package (dist/src), run as its own process by
// the history tests and the bench. Env: PLATFORM (express|fastify), REDIS_URL (none: in-process
// broker), HISTORY_SIZE (default 1000), PORT (default 0).
//
// GET /h?topics=a,b&since={"a":{"offset":3,"epoch":"..."}} subscribes to each topic in order,
// resuming from `since`, and answers with JSON frames: {type:'recovery', topic, ...result} after
// each subscribe, {type:'pub', topic, offset, epoch, data} per publication, {type:'lost', ...}.
// GET /publish takes frames [topic, data] and publishes them.
import 'reflect-metadata';
import { Controller, Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  RedisBroker,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
} from '../../dist/src/index.js';
import { decorateClass, decorateMethod } from '../bench/servers/decorate.mjs';

const { PLATFORM = 'express', REDIS_URL, HISTORY_SIZE = '1000', PORT = '0' } = process.env;

class HistoryHandler extends WebSocketHandler {
  async onOpen() {
    const since = JSON.parse(this.query.get('since') ?? '{}');
    for (const topic of (this.query.get('topics') ?? '').split(',').filter(Boolean)) {
      const result = await this.subscribe(topic, { since: since[topic] });
      if (this.isOpen) this.send(JSON.stringify({ type: 'recovery', topic, ...result }));
    }
  }
  onContinuityLost(loss) {
    this.send(JSON.stringify({ type: 'lost', ...loss }));
  }
}
decorateClass(HistoryHandler, [Injectable()]);

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

class HistoryController {
  history() {}
  publish() {}
}
decorateMethod(HistoryController, 'history', [WebSocketRoute('/h', HistoryHandler)]);
decorateMethod(HistoryController, 'publish', [WebSocketRoute('/publish', PublishHandler)]);
decorateClass(HistoryController, [Controller()]);

const payload = (data, { offset, epoch }, topic) =>
  JSON.stringify({ type: 'pub', topic, offset, epoch, data });

class AppModule {}
decorateClass(AppModule, [
  Module({
    imports: [
      WsModule.forRoot({
        heartbeatMs: 0,
        broker: REDIS_URL ? new RedisBroker({ url: REDIS_URL, connectTimeoutMs: 2000 }) : undefined,
        history: { default: { size: Number(HISTORY_SIZE), ttlMs: 600_000, payload } },
      }),
    ],
    controllers: [HistoryController],
  }),
]);

const app =
  PLATFORM === 'fastify'
    ? await NestFactory.create(AppModule, new FastifyAdapter(), { logger: ['error', 'warn'] })
    : await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
await app.listen(Number(PORT), '127.0.0.1');
console.log(`Listening on http://127.0.0.1:${app.getHttpServer().address().port}`);
