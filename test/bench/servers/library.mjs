// This library's EchoHandler route, served by a Nest app on Express or Fastify, from the BUILT
// package (dist/src). Usage: node library.mjs express|fastify [guard|middleware]
import 'reflect-metadata';
import { Controller, Injectable, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  EchoHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
} from '../../../dist/src/index.js';
import { serveBench } from './control.mjs';
import { decorateClass, decorateMethod } from './decorate.mjs';

const [platform = 'express', variant] = process.argv.slice(2);
const guarded = variant;

/** One async guard, as an auth guard that looks a token up would be. */
class AllowAsyncGuard {
  async canActivate() {
    await Promise.resolve();
    return true;
  }
}
decorateClass(AllowAsyncGuard, [Injectable()]);

class EchoController {
  echo() {}
}
decorateMethod(EchoController, 'echo', [
  WebSocketRoute('/echo', EchoHandler),
  ...(guarded === 'guard' ? [UseGuards(AllowAsyncGuard)] : []),
]);
decorateClass(EchoController, [Controller()]);

class AppModule {}
decorateClass(AppModule, [
  Module({ imports: [WsModule.forRoot()], controllers: [EchoController] }),
]);

const app =
  platform === 'fastify'
    ? await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false })
    : await NestFactory.create(AppModule, { logger: false });
// One trivial middleware (Express) or onRequest hook (Fastify) that every handshake goes through.
if (variant === 'middleware') {
  if (platform === 'fastify') {
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', (_request, _reply, done) => done());
  } else {
    app.use((_request, _response, next) => next());
  }
}
await app.listen(0, '127.0.0.1');
const registry = app.get(WebSocketRegistry);

serveBench({
  port: app.getHttpServer().address().port,
  fanOut: {
    broadcast: (data) => registry.broadcast(data),
    loop: (data) => {
      let sent = 0;
      for (const handler of registry) {
        handler.send(data);
        sent++;
      }
      return sent;
    },
  },
});
