import { Module } from '@nestjs/common';
import { RedisBroker, RedisPresence, WsModule, streamEnvelope } from '../src/index.js';
import { ChatModule } from './chat/chat.module.js';
import { EchoController } from './echo/echo.controller.js';
import { PageController } from './page/page.controller.js';
import { SecureEchoController } from './secure/secure-echo.controller.js';

/** WS_PORT: the routes on a port of their own, with no HTTP server (main.ts); else on the HTTP server. */
const wsPort = process.env.WS_PORT ? Number(process.env.WS_PORT) : undefined;
/** REDIS_URL: instances on the same Redis share the chat's rooms and members; else each is on its own. */
const redisUrl = process.env.REDIS_URL;
/** PRESENCE_HEARTBEAT_MS: how often each instance refreshes its chat members in Redis (default 10 s). */
const heartbeatMs = Number(process.env.PRESENCE_HEARTBEAT_MS ?? 10_000);

/** The reference sample: one app that shows every feature of nestjs-ws-routes. */
@Module({
  imports: [
    WsModule.forRoot({
      port: wsPort,
      host: process.env.HOST,
      broker: redisUrl ? new RedisBroker({ url: redisUrl, channel: 'sample-chat' }) : undefined,
      presence: redisUrl
        ? new RedisPresence({ url: redisUrl, prefix: 'sample-chat', heartbeatMs })
        : undefined,
      // Each room keeps its last 200 messages for 10 minutes: a page that reconnects gets them.
      // `streamEnvelope` gives each message its room and position, which the page's client keeps.
      history: { topics: { 'chat:*': { size: 200, ttlMs: 600_000, payload: streamEnvelope } } },
    }),
    ChatModule,
  ],
  controllers: [PageController, EchoController, SecureEchoController],
})
export class AppModule {}
