import {
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { isWebSocketHandshake } from '../../../src/index.js';
import { UsersService, type User } from './users.service.js';

/** The upgrade request as guards see it: an HTTP request, plus what this guard adds. */
export interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  query?: Record<string, unknown>;
  user?: User;
}

/**
 * Authenticates by `Authorization: Bearer <token>` and puts the user on the request, for HTTP
 * routes and WebSocket handshakes alike; the handler reads it as `this.request.user`. Browsers
 * cannot set headers on a WebSocket handshake, so `?token=` is accepted there, and only there.
 */
@Injectable()
export class TokenAuthGuard implements CanActivate {
  constructor(private readonly users: UsersService) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    let token = typeof header === 'string' ? /^Bearer (\S+)$/i.exec(header)?.[1] : undefined;
    if (token === undefined && isWebSocketHandshake(context)) {
      token = typeof request.query?.token === 'string' ? request.query.token : undefined;
    }
    const user = token === undefined ? undefined : this.users.findByToken(token);
    if (!user) throw new UnauthorizedException('Unknown or missing token');
    request.user = user;
    return true;
  }
}
