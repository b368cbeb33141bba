import { Module } from '@nestjs/common';
import { WsModule } from '../src/index.js';
import { EchoController } from './echo/echo.controller.js';

/** WS_PORT: the routes on a port of their own, with no HTTP server (main.ts); else on the HTTP server. */
const wsPort = process.env.WS_PORT ? Number(process.env.WS_PORT) : undefined;

/** The reference sample: one app that shows every feature of nestjs-ws-routes. */
@Module({
  imports: [WsModule.forRoot({ port: wsPort, host: process.env.HOST })],
  controllers: [EchoController],
})
export class AppModule {}
