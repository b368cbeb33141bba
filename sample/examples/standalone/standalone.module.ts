import { Module } from '@nestjs/common';
import { WsModule } from '../../../src/index.js';
import { StandaloneController } from './standalone.controller.js';

/** `port`: the routes get a server of their own (default 9001 here; `PORT=0` picks a free one). */
@Module({
  imports: [WsModule.forRoot({ port: Number(process.env.PORT ?? 9001), host: process.env.HOST })],
  controllers: [StandaloneController],
})
export class StandaloneModule {}
