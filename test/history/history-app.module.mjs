// The history test app, from the BUILT package (dist/src), for the history tests
// (history.app.mjs) and the bench (test/bench/servers/history.mjs).
//
// GET /h?topics=a,b&since={"a":{"offset":3,"epoch":"..."}} subscribes to each topic in order,
// resuming from `since`, and answers with JSON frames: {type:'recovery', topic, ...result} after
// each subscribe, {type:'pub', topic, offset, epoch, data} per publication, {type:'lost', ...}.
// GET /publish takes frames [topic, data] and publishes them. GET /sub subscribes to `plain` and
// `kept` and sends nothing (the bench's fan-out). A frame [null, data, path?] to /publish broadcasts data (to `path` only if given).
// GET /stats answers with one frame: registry.stats().
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

class SubscribeHandler extends WebSocketHandler {
  onOpen() {
    this.subscribe('plain');
    this.subscribe('kept');
  }
}
decorateClass(SubscribeHandler, [Injectable()]);

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
    const [topic, data, path] = JSON.parse(frame);
    if (topic === null) this.registry.broadcast(data, { path });
    else this.registry.publish(topic, data);
  }
}
Inject(WebSocketRegistry)(PublishHandler, undefined, 0);
decorateClass(PublishHandler, [Injectable()]);

class StatsHandler extends WebSocketHandler {
  constructor(registry) {
    super();
    this.registry = registry;
  }
  onOpen() {
    this.send(JSON.stringify(this.registry.stats()));
  }
}
Inject(WebSocketRegistry)(StatsHandler, undefined, 0);
decorateClass(StatsHandler, [Injectable()]);

class HistoryController {
  history() {}
  publish() {}
  sub() {}
  stats() {}
}
decorateMethod(HistoryController, 'history', [WebSocketRoute('/h', HistoryHandler)]);
decorateMethod(HistoryController, 'publish', [WebSocketRoute('/publish', PublishHandler)]);
decorateMethod(HistoryController, 'sub', [WebSocketRoute('/sub', SubscribeHandler)]);
decorateMethod(HistoryController, 'stats', [WebSocketRoute('/stats', StatsHandler)]);
decorateClass(HistoryController, [Controller()]);

/**
 * Starts the app on 127.0.0.1:`port` (0: any); resolves with it and its registry. Broker: a Redis
 * Cluster given `cluster` (`[{ host, port }]`), else the Redis at `redisUrl`, else in-process.
 */
export async function startHistoryApp({
  platform = 'express',
  redisUrl,
  cluster,
  history,
  port = 0,
  readTimeoutMs,
}) {
  const broker =
    cluster !== undefined
      ? new RedisBroker({ cluster, connectTimeoutMs: 2000, readTimeoutMs })
      : redisUrl
        ? new RedisBroker({ url: redisUrl, connectTimeoutMs: 2000, readTimeoutMs })
        : undefined;
  class AppModule {}
  decorateClass(AppModule, [
    Module({
      imports: [
        WsModule.forRoot({
          heartbeatMs: 0,
          broker,
          history,
        }),
      ],
      controllers: [HistoryController],
    }),
  ]);
  const options = { logger: ['error', 'warn'] };
  const app =
    platform === 'fastify'
      ? await NestFactory.create(AppModule, new FastifyAdapter(), options)
      : await NestFactory.create(AppModule, options);
  app.enableShutdownHooks();
  await app.listen(port, '127.0.0.1');
  return { app, registry: app.get(WebSocketRegistry), port: app.getHttpServer().address().port };
}
