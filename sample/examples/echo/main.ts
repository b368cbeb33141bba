import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { listen } from '../../listen.js';
import { EchoModule } from './echo.module.js';

// npm run sample:echo, then: websocat ws://localhost:3000/echo/upper
const app = await NestFactory.create(EchoModule);
await listen(app, 'EchoExample', 'ws://localhost:<port>/echo and /echo/upper');
