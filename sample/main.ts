import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsServer } from '../src/index.js';
import { AppModule } from './app.module.js';
import { listen } from './listen.js';

if (process.env.WS_PORT) {
  // Standalone: no HTTP server (so no chat page), the WebSocket routes on WS_PORT (ws4py's gevent server).
  const app = await NestFactory.createApplicationContext(AppModule);
  app.enableShutdownHooks();
  Logger.log(`WebSocket routes on ${app.get(WsServer).url('/')} (try /echo)`, 'Sample');
} else {
  const app = await NestFactory.create(AppModule);
  await listen(app, 'Sample', 'open http://localhost:<port>/ for the chat page');
}
