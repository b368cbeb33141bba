import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsServer } from '../src/index.js';
import { AppModule } from './app.module.js';

if (process.env.WS_PORT) {
  // Standalone: no HTTP server, the WebSocket routes on WS_PORT (ws4py's gevent server).
  const app = await NestFactory.createApplicationContext(AppModule);
  app.enableShutdownHooks();
  Logger.log(`WebSocket routes on ${app.get(WsServer).url('/')} (try /echo)`, 'Sample');
} else {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '0.0.0.0';
  await app.listen(port, host);
  Logger.log(`Listening on ${await app.getUrl()} (try ws://localhost:${port}/echo)`, 'Sample');
}
