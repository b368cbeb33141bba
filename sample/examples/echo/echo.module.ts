import { Module } from '@nestjs/common';
import { WsModule } from '../../../src/index.js';
import { EchoController } from './echo.controller.js';

@Module({ imports: [WsModule.forRoot()], controllers: [EchoController] })
export class EchoModule {}
