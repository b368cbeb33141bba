import { Module } from '@nestjs/common';
import { WsModule } from '../../../src/index.js';
import { StatusController } from './status.controller.js';

@Module({ imports: [WsModule.forRoot()], controllers: [StatusController] })
export class FastifyExampleModule {}
