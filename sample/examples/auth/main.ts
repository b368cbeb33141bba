import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { listen } from '../../listen.js';
import { AuthExampleModule } from './auth.module.js';

const app = await NestFactory.create(AuthExampleModule);
await listen(app, 'AuthExample', 'ws://localhost:<port>/whoami?token=ada-token');
