import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsServer } from '../../../src/index.js';
import { StandaloneModule } from './standalone.module.js';

// No HTTP adapter at all: an application context, with the WebSocket routes on their own port.
const app = await NestFactory.createApplicationContext(StandaloneModule);
app.enableShutdownHooks();
const server = app.get(WsServer);
Logger.log(`WebSocket routes on ${server.url('/')} (try /echo and /online)`, 'StandaloneExample');
