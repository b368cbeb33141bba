import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { WebSocketRoute } from '../../../src/index.js';
import { Roles, RolesGuard } from './roles.guard.js';
import { TokenAuthGuard, type AuthenticatedRequest } from './token-auth.guard.js';
import { WhoAmIHandler } from './whoami.handler.js';

/** The same guards on an HTTP route and on WebSocket routes: they run before the upgrade. */
@Controller()
@UseGuards(TokenAuthGuard, RolesGuard)
export class AuthController {
  /** `GET /me`: plain HTTP, for comparison. */
  @Get('me')
  me(@Req() request: AuthenticatedRequest) {
    return request.user;
  }

  /** `/whoami`: any known token. */
  @WebSocketRoute('/whoami', WhoAmIHandler)
  whoami() {}

  /** `/admin`: admins only; Bob's token gets `403`. */
  @Roles('admin')
  @WebSocketRoute('/admin', WhoAmIHandler)
  admin() {}
}
