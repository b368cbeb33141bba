import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { listen } from '../../listen.js';
import { FastifyExampleModule } from './fastify.module.js';

// The same routes and handlers as on Express: only the adapter changes.
const app = await NestFactory.create<NestFastifyApplication>(
  FastifyExampleModule,
  new FastifyAdapter(),
);
await listen(
  app,
  'FastifyExample',
  'GET http://localhost:<port>/status, ws://localhost:<port>/echo',
);
