// @nestjs/websockets with @nestjs/platform-ws's WsAdapter on a Nest Express app.
// Usage: node nest-gateway.mjs raw|subscribe
//   raw:       the gateway echoes every raw message from handleConnection's 'message' listener
//   subscribe: @SubscribeMessage('echo') returns { event: 'echo', data }, sent back as JSON
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import { SubscribeMessage, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import { serveBench } from './control.mjs';
import { decorateClass, decorateMethod } from './decorate.mjs';

const mode = process.argv[2] === 'subscribe' ? 'subscribe' : 'raw';

function echo(data, isBinary) {
  this.send(data, { binary: isBinary });
}

class EchoGateway {
  server;
  handleConnection(client) {
    if (mode === 'raw') client.on('message', echo);
  }
  echo(_client, data) {
    return { event: 'echo', data };
  }
}
Reflect.decorate([WebSocketServer()], EchoGateway.prototype, 'server');
if (mode === 'subscribe') decorateMethod(EchoGateway, 'echo', [SubscribeMessage('echo')]);
decorateClass(EchoGateway, [WebSocketGateway({ path: '/echo' })]);

class AppModule {}
decorateClass(AppModule, [Module({ providers: [EchoGateway] })]);

const app = await NestFactory.create(AppModule, { logger: false });
app.useWebSocketAdapter(new WsAdapter(app));
await app.listen(0, '127.0.0.1');
const gateway = app.get(EchoGateway);

serveBench({
  port: app.getHttpServer().address().port,
  fanOut: {
    loop: (data) => {
      let sent = 0;
      for (const client of gateway.server.clients) {
        client.send(data);
        sent++;
      }
      return sent;
    },
  },
});
