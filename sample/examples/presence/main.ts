import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { listen } from '../../listen.js';
import { PresenceExampleModule } from './presence-example.module.js';

// Several times on one Redis: PORT=3001 npm run sample:presence, PORT=3002 npm run sample:presence;
// then websocat 'ws://localhost:3001/online?name=Ada' and curl localhost:3002/members.
const app = await NestFactory.create(PresenceExampleModule);
await listen(app, 'PresenceExample', 'ws://localhost:<port>/online?name=Ada');
