// This library, scaled out: a Nest app (Express) from the BUILT package (dist/src) with a
// `RedisBroker`, serving `/topics?t=a,b,c` whose handler subscribes to those topics; publishes with
// `registry.publish(topic, data)`. Usage: REDIS_URL=... node library.mjs
// More options by environment, so a variant is one flag of run.mjs away (see scale.mjs):
//   BENCH_WS_OPTIONS      JSON merged into WsModule.forRoot() options (e.g. {"history": {...}})
//   BENCH_BROKER_OPTIONS  JSON merged into new RedisBroker() options
import 'reflect-metadata';
import { Controller, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  RedisBroker,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
} from '../../../../dist/src/index.js';
import { decorateClass, decorateMethod } from '../../servers/decorate.mjs';
import { servePublisher } from './publisher.mjs';

const json = (name) => (process.env[name] ? JSON.parse(process.env[name]) : {});

class TopicsHandler extends WebSocketHandler {
  onOpen() {
    for (const topic of (this.query.get('t') ?? '').split(',')) {
      if (topic) void this.subscribe(topic);
    }
  }
}
decorateClass(TopicsHandler, [Injectable()]);

class TopicsController {
  topics() {}
}
decorateMethod(TopicsController, 'topics', [WebSocketRoute('/topics', TopicsHandler)]);
decorateClass(TopicsController, [Controller()]);

const broker = new RedisBroker({ url: process.env.REDIS_URL, ...json('BENCH_BROKER_OPTIONS') });

class AppModule {}
decorateClass(AppModule, [
  Module({
    imports: [WsModule.forRoot({ broker, ...json('BENCH_WS_OPTIONS') })],
    controllers: [TopicsController],
  }),
]);

const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
const registry = app.get(WebSocketRegistry);

servePublisher({
  port: app.getHttpServer().address().port,
  publish: (topic, data) => registry.publish(topic, data),
  stats: () => registry.stats().broker,
  close: () => app.close(),
  brokerCode: ['/dist/src/broker/'],
});
