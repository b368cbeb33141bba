import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { listen } from './listen.js';

const app = await NestFactory.create(AppModule);
await listen(app, 'Sample', 'open http://localhost:<port>/ for the chat page');
