import { Module } from '@nestjs/common';
import { WsModule } from '../src/index.js';
import { ChatModule } from './chat/chat.module.js';
import { EchoController } from './echo/echo.controller.js';
import { PageController } from './page/page.controller.js';
import { SecureEchoController } from './secure/secure-echo.controller.js';

/** The reference sample: one app that shows every feature of nestjs-ws-routes. */
@Module({
  imports: [WsModule.forRoot(), ChatModule],
  controllers: [PageController, EchoController, SecureEchoController],
})
export class AppModule {}
