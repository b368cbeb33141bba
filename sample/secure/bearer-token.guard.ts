import {
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';

/**
 * An ordinary Nest HTTP guard: the request must carry `Authorization: Bearer <token>` or
 * `?token=<token>` (browsers cannot set headers on a WebSocket handshake). The token is
 * `SAMPLE_TOKEN`, default `sample-token`. On a WebSocket route it runs at the handshake, and its
 * `UnauthorizedException` answers `401` before any upgrade.
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  private readonly expected = Buffer.from(process.env.SAMPLE_TOKEN ?? 'sample-token');

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{
      headers: Record<string, string | string[] | undefined>;
      query?: Record<string, unknown>;
    }>();
    const offered = bearerToken(request.headers.authorization) ?? request.query?.token;
    if (typeof offered === 'string' && this.matches(offered)) return true;
    throw new UnauthorizedException('A valid bearer token is required');
  }

  private matches(offered: string): boolean {
    const bytes = Buffer.from(offered);
    // timingSafeEqual: the comparison takes as long for a near miss as for a wild guess.
    return bytes.length === this.expected.length && timingSafeEqual(bytes, this.expected);
  }
}

function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}
