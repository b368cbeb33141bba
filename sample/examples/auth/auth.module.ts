import { Module } from '@nestjs/common';
import { WsModule } from '../../../src/index.js';
import { AuthController } from './auth.controller.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [WsModule.forRoot()],
  controllers: [AuthController],
  providers: [UsersService],
})
export class AuthExampleModule {}
