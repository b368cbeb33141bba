import { Module } from '@nestjs/common';
import { WsModule } from '../src/index.js';
import { ChatModule } from './chat/chat.module.js';
import { EchoController } from './echo/echo.controller.js';
import { PageController } from './page/page.controller.js';
import { SecureEchoController } from './secure/secure-echo.controller.js';

/** WS_PORT: the routes on a port of their own, with no HTTP server (main.ts); else on the HTTP server. */
const wsPort = process.env.WS_PORT ? Number(process.env.WS_PORT) : undefined;

/** The reference sample: one app that shows every feature of nestjs-ws-routes. */
@Module({
  imports: [WsModule.forRoot({ port: wsPort, host: process.env.HOST }), ChatModule],
  controllers: [PageController, EchoController, SecureEchoController],
})
export class AppModule {}
