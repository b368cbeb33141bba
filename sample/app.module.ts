import { Module } from '@nestjs/common';
import { WsModule } from '../src/index.js';
import { EchoController } from './echo/echo.controller.js';

/** The reference sample: one app that shows every feature of nestjs-ws-routes. */
@Module({
  imports: [WsModule.forRoot()],
  controllers: [EchoController],
})
export class AppModule {}
