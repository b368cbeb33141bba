import fastifyCookie from '@fastify/cookie';
import {
  Controller,
  Get,
  Injectable,
  Module,
  Req,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import cookieParser from 'cookie-parser';
import session from 'express-session';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WebSocketHandler, WebSocketRoute, WsModule } from '../../src/index.js';
import { ADAPTERS, startApp, type AdapterName } from '../support/app.js';
import { openRaw, openWithGreeting, refused } from '../support/handshake.js';
import { handshakeRequest } from '../support/raw-http.js';

// Real, well-known packages, configured as their READMEs say for HTTP, protect WebSocket routes
// unchanged: the handshake is dispatched through the app like any GET.

const JWT_SECRET = 'test-only-secret';

/** Greets with what the packages put on the platform's request. */
class WhoAmIHandler extends WebSocketHandler {
  override onOpen() {
    const request = this.request;
    this.send(
      JSON.stringify({
        user: request.user ?? request.session?.user ?? null,
        sid: request.cookies?.sid ?? null,
      }),
    );
  }
}

type Booted = { app: INestApplication; port: number; url: (path: string) => string };

function useApp() {
  const state: { booted?: Booted; clients: WebSocket[] } = { clients: [] };
  afterEach(async () => {
    for (const client of state.clients.splice(0)) client.terminate();
    await state.booted?.app.close();
    state.booted = undefined;
  });
  const greet = async (path: string, headers?: Record<string, string>) => {
    const { client, greeting } = await openWithGreeting(state.booted!.url(path), undefined, {
      headers,
    });
    state.clients.push(client);
    return JSON.parse(String(greeting)) as { user: unknown; sid: unknown };
  };
  return { state, greet };
}

// ---------------------------------------------------------------------------------------------
// Cookies: cookie-parser (Express), @fastify/cookie (Fastify); a guard reads `request.cookies`.

@Injectable()
class CookieGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ cookies?: Record<string, string> }>();
    if (request.cookies?.sid !== 'valid-session') throw new UnauthorizedException();
    return true;
  }
}

@Controller('cookies')
@UseGuards(CookieGuard)
class CookieController {
  @WebSocketRoute('ws', WhoAmIHandler)
  ws() {}

  @Get('http')
  http(@Req() request: { cookies: Record<string, string> }) {
    return { sid: request.cookies.sid };
  }
}

@Module({ imports: [WsModule.forRoot()], controllers: [CookieController] })
class CookieModule {}

const cookieSupport: Record<AdapterName, (app: INestApplication) => unknown> = {
  express: (app) => app.use(cookieParser()),
  fastify: (app) => (app as NestFastifyApplication).register(fastifyCookie),
};

describe.each(ADAPTERS)('cookies (%s)', (adapter) => {
  const { state, greet } = useApp();

  it('a guard reading request.cookies.sid lets a handshake with the cookie in, 401 without', async () => {
    state.booted = await startApp({ imports: [CookieModule] }, cookieSupport[adapter], adapter);
    const { port, url } = state.booted;
    const cookie = { Cookie: 'sid=valid-session' };
    const http = await fetch(`http://127.0.0.1:${port}/cookies/http`, { headers: cookie });
    expect(await http.json()).toEqual({ sid: 'valid-session' });
    expect(await greet('/cookies/ws', cookie)).toEqual({ user: null, sid: 'valid-session' });
    const refusal = await refused(url('/cookies/ws'), undefined, {
      headers: { Cookie: 'sid=forged' },
    });
    expect(refusal.status).toBe(401);
  });
});

// ---------------------------------------------------------------------------------------------
// express-session: a logged-in session authenticates the handshake; its Set-Cookie reaches the 101.

@Injectable()
class SessionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ session?: { user?: string } }>();
    return request.session?.user !== undefined;
  }
}

@Controller('session')
class SessionController {
  @Get('login')
  login(@Req() request: { session: { user?: string } }) {
    request.session.user = 'alice';
    return { ok: true };
  }

  @UseGuards(SessionGuard)
  @WebSocketRoute('ws', WhoAmIHandler)
  ws() {}
}

@Module({ imports: [WsModule.forRoot()], controllers: [SessionController] })
class SessionModule {}

describe('express-session with cookie-parser (express)', () => {
  const { state, greet } = useApp();

  const boot = async () => {
    state.booted = await startApp({ imports: [SessionModule] }, (app) => {
      app.use(cookieParser());
      // rolling: every response refreshes the cookie, the 101 included
      app.use(
        session({ secret: 'test-only', resave: false, saveUninitialized: false, rolling: true }),
      );
    });
    return state.booted;
  };

  it('a logged-in session authenticates the handshake, and its Set-Cookie arrives on the 101', async () => {
    const { port, url } = await boot();
    const login = await fetch(`http://127.0.0.1:${port}/session/login`);
    const sessionCookie = login.headers.get('set-cookie')!.split(';')[0];
    expect(sessionCookie).toMatch(/^connect\.sid=/);
    expect((await greet('/session/ws', { Cookie: sessionCookie })).user).toBe('alice');
    const { response, socket } = await openRaw(
      port,
      handshakeRequest('/session/ws', { Cookie: sessionCookie }),
    );
    socket.destroy();
    expect(response.status).toBe(101);
    expect(response.headers['set-cookie']).toMatch(/^connect\.sid=.*; Path=\/; HttpOnly/);
    expect(response.headers['sec-websocket-accept']).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    const anonymous = await refused(url('/session/ws'));
    expect(anonymous.status).toBe(403);
  });
});

// ---------------------------------------------------------------------------------------------
// @nestjs/passport with passport-jwt: AuthGuard('jwt') as on any HTTP route.

@Injectable()
class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: JWT_SECRET });
  }
  validate(payload: { sub: string }) {
    return { name: payload.sub };
  }
}

@Controller('jwt')
@UseGuards(AuthGuard('jwt'))
class JwtController {
  @WebSocketRoute('ws', WhoAmIHandler)
  ws() {}

  @Get('http')
  http(@Req() request: { user: unknown }) {
    return request.user;
  }
}

@Module({
  imports: [
    WsModule.forRoot(),
    PassportModule,
    JwtModule.register({ secret: JWT_SECRET, signOptions: { expiresIn: '1h' } }),
  ],
  controllers: [JwtController],
  providers: [JwtStrategy],
})
class JwtAuthModule {}

describe.each(ADAPTERS)("@nestjs/passport AuthGuard('jwt') (%s)", (adapter) => {
  const { state, greet } = useApp();

  it('a valid bearer token opens the connection with request.user; none gets 401', async () => {
    state.booted = await startApp({ imports: [JwtAuthModule] }, undefined, adapter);
    const { app, port, url } = state.booted;
    const token = app.get(JwtService).sign({ sub: 'alice' });
    const bearer = { Authorization: `Bearer ${token}` };
    const http = await fetch(`http://127.0.0.1:${port}/jwt/http`, { headers: bearer });
    expect(await http.json()).toEqual({ name: 'alice' });
    expect((await greet('/jwt/ws', bearer)).user).toEqual({ name: 'alice' });
    const refusal = await refused(url('/jwt/ws'));
    expect(refusal.status).toBe(401);
    expect(JSON.parse(refusal.body)).toEqual({ statusCode: 401, message: 'Unauthorized' });
  });
});

// ---------------------------------------------------------------------------------------------
// @nestjs/throttler: ThrottlerGuard as APP_GUARD limits handshakes per client IP behind a proxy.

@Controller('limited')
class LimitedController {
  @WebSocketRoute('ws', WhoAmIHandler)
  ws() {}
}

@Module({
  imports: [WsModule.forRoot(), ThrottlerModule.forRoot([{ ttl: 60_000, limit: 2 }])],
  controllers: [LimitedController],
  providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
})
class ThrottledModule {}

/** A client behind the proxy, by its address. */
const client = (ip: string) => ({ 'X-Forwarded-For': ip });

describe.each(ADAPTERS)('@nestjs/throttler ThrottlerGuard as APP_GUARD (%s)', (adapter) => {
  const { state, greet } = useApp();

  it('answers 429 with Retry-After past the limit, per client IP as trust proxy gives it', async () => {
    state.booted = await startApp(
      { imports: [ThrottledModule] },
      adapter === 'express'
        ? (app) => app.getHttpAdapter().getInstance().set('trust proxy', 1)
        : undefined,
      adapter === 'express' ? 'express' : new FastifyAdapter({ trustProxy: true }),
    );
    const { port, url } = state.booted;
    await greet('/limited/ws', client('203.0.113.7'));
    // The guard's headers on success travel on the 101.
    const { response, socket } = await openRaw(
      port,
      handshakeRequest('/limited/ws', client('203.0.113.7')),
    );
    socket.destroy();
    expect(response.status).toBe(101);
    expect(response.headers['x-ratelimit-remaining']).toBe('0');
    const refusal = await refused(url('/limited/ws'), undefined, {
      headers: client('203.0.113.7'),
    });
    expect(refusal.status).toBe(429);
    expect(Number(refusal.headers['retry-after'])).toBeGreaterThan(0);
    expect(refusal.closedByServer).toBe(true);
    // Another client behind the same proxy has its own budget.
    expect((await greet('/limited/ws', client('203.0.113.8'))).user).toBeNull();
  });
});
