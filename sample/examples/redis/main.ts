import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { listen } from '../../listen.js';
import { RedisExampleModule } from './redis-example.module.js';

// Twice on one Redis: PORT=3001 npm run sample:redis, and PORT=3002 npm run sample:redis;
// then websocat ws://localhost:3001/news and ws://localhost:3002/news, and type in either.
const app = await NestFactory.create(RedisExampleModule);
await listen(app, 'RedisExample', 'ws://localhost:<port>/news');
