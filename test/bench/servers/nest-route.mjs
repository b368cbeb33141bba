// A control: the least a WebSocket route served by a Nest controller costs, with nothing of this
// library. The upgrade is dispatched as a request of the app, as this library and the peers do (a
// ServerResponse on the socket, the server's `request` listeners: Nest's adapter, the platform's
// router), into a plain `@Get()` route with `@Req()` and `@Res()`, whose method hands the socket
// to ws's `handleUpgrade`. No RFC or origin check, no timeout, no handler object, no registry.
// Usage: node nest-route.mjs express|fastify
import 'reflect-metadata';
import { Controller, Get, Module, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ServerResponse } from 'node:http';
import { WebSocketServer } from 'ws';
import { serveBench } from './control.mjs';
import { decorateClass, decorateMethod } from './decorate.mjs';

const platform = process.argv[2] ?? 'express';
const kSocket = Symbol('socket');
const kHead = Symbol('head');
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

function echo(data, isBinary) {
  this.send(data, { binary: isBinary });
}

class EchoController {
  echo(request, reply) {
    const raw = request.raw ?? request;
    const socket = raw[kSocket];
    if (socket === undefined) {
      (reply.raw ?? reply).writeHead(426).end();
      return;
    }
    reply.hijack?.();
    socket.removeListener('error', destroy);
    wss.handleUpgrade(raw, socket, raw[kHead], (ws) => ws.on('message', echo));
  }
}
// What `tsc` emits for `echo(@Req() request, @Res() reply)`: parameter decorators first.
Req()(EchoController.prototype, 'echo', 0);
Res()(EchoController.prototype, 'echo', 1);
decorateMethod(EchoController, 'echo', [Get('echo')]);
decorateClass(EchoController, [Controller()]);

class AppModule {}
decorateClass(AppModule, [Module({ controllers: [EchoController] })]);

const app =
  platform === 'fastify'
    ? await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false })
    : await NestFactory.create(AppModule, { logger: false });
const server = app.getHttpServer();

function destroy() {
  this.destroy();
}

server.on('upgrade', (request, socket, head) => {
  socket.on('error', destroy);
  request[kSocket] = socket;
  request[kHead] = head;
  const response = new ServerResponse(request);
  response.shouldKeepAlive = false;
  response.assignSocket(socket);
  // An answer of the app instead of a 101 (a 404 for another path) ends the exchange.
  response.on('finish', () => socket.end());
  server.emit('request', request, response);
});

await app.listen(0, '127.0.0.1');
// Only in the handshake storms: no fan-out.
serveBench({ port: server.address().port, fanOut: {} });
