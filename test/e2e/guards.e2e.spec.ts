import {
  Controller,
  Get,
  HttpException,
  Injectable,
  Logger,
  Module,
  Req,
  SetMetadata,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { of } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import {
  EchoHandler,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
  isWebSocketHandshake,
} from '../../src/index.js';
import { GuardsConsumer } from '@nestjs/core/guards/guards-consumer.js';
import { WsHost } from '../../src/ws.host.js';
import { ADAPTERS, connect, nextMessage, startApp, until } from '../support/app.js';
import {
  openWithGreeting as openClientWithGreeting,
  refused,
  type Refusal,
} from '../support/handshake.js';
import { handshakeRequest, rawRequest } from '../support/raw-http.js';

// ---------------------------------------------------------------------------------------------
// An ordinary Nest auth setup, written for HTTP: a global bearer-token guard with a @Public()
// opt-out, and a role guard reading @Roles(). Nothing in it knows about WebSockets.

interface User {
  name: string;
  roles: string[];
}
type AuthenticatedRequest = IncomingMessage & { user?: User; query: Record<string, string> };

const IS_PUBLIC = 'isPublic';
const Public = () => SetMetadata(IS_PUBLIC, true);
const Roles = Reflector.createDecorator<string[]>();

@Injectable()
class TokenService {
  private readonly users = new Map<string, User>([
    ['alice-token', { name: 'alice', roles: ['user'] }],
    ['root-token', { name: 'root', roles: ['user', 'admin'] }],
  ]);
  verify(token: string | undefined): User | undefined {
    return token === undefined ? undefined : this.users.get(token);
  }
}

@Injectable()
class BearerGuard implements CanActivate {
  constructor(
    private readonly tokens: TokenService,
    private readonly reflector: Reflector,
  ) {}
  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : request.query.token;
    const user = this.tokens.verify(token);
    if (!user) throw new UnauthorizedException();
    request.user = user;
    return true;
  }
}

@Injectable()
class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.get(Roles, context.getHandler());
    if (!roles) return true;
    const { user } = context.switchToHttp().getRequest<AuthenticatedRequest>();
    return roles.some((role) => user?.roles.includes(role));
  }
}

/** Sends the user the guard authenticated, then echoes. */
@Injectable()
class UserHandler extends WebSocketHandler {
  override onOpen() {
    this.send(JSON.stringify(this.request.user));
  }
}

const seenByController: (User | undefined)[] = [];

@Controller('secure')
class SecureController {
  @WebSocketRoute('me', UserHandler)
  me(handler: UserHandler) {
    seenByController.push(handler.request.user as User | undefined);
  }

  @Roles(['admin'])
  @UseGuards(RolesGuard)
  @WebSocketRoute('admin', UserHandler)
  admin() {}

  @Public()
  @WebSocketRoute('open', EchoHandler)
  open() {}

  @Get('me')
  httpMe(@Req() request: AuthenticatedRequest) {
    return request.user;
  }
}

@Public()
@Controller('public')
class PublicController {
  @WebSocketRoute('echo', EchoHandler)
  echo() {}
}

@Module({
  imports: [WsModule.forRoot()],
  controllers: [SecureController, PublicController],
  providers: [TokenService, RolesGuard, { provide: APP_GUARD, useClass: BearerGuard }],
})
class AuthModule {}

// ---------------------------------------------------------------------------------------------
// Order, dependency injection and the ExecutionContext.

@Injectable()
class GuardLog {
  readonly entries: string[] = [];
  contexts: {
    type: string;
    isHandshake: boolean;
    params: unknown;
    query: unknown;
    host: unknown;
    handlerIsMethod: boolean;
    classIsController: boolean;
    feature: unknown;
    responseIsPlatformResponse: boolean;
  }[] = [];
}

@Injectable()
abstract class LoggingGuard implements CanActivate {
  protected abstract readonly name: string;
  constructor(protected readonly log: GuardLog) {}
  canActivate(context: ExecutionContext): boolean {
    this.log.entries.push(`${this.name}:${isWebSocketHandshake(context) ? 'ws' : 'http'}`);
    return true;
  }
}

@Injectable()
class AppGuard extends LoggingGuard {
  protected readonly name = 'APP_GUARD';
}
@Injectable()
class ClassGuard extends LoggingGuard {
  protected readonly name = 'class';
}
@Injectable()
class MethodGuard extends LoggingGuard {
  protected readonly name = 'method';
}
class UseGlobalGuard extends LoggingGuard {
  protected readonly name = 'useGlobalGuards';
}

@Injectable()
class ContextGuard implements CanActivate {
  constructor(
    private readonly log: GuardLog,
    private readonly reflector: Reflector,
  ) {}
  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest & { params: unknown }>();
    this.log.contexts.push({
      type: context.getType(),
      isHandshake: isWebSocketHandshake(context),
      params: request.params,
      query: { ...request.query },
      host: request.headers.host,
      handlerIsMethod: context.getHandler() === OrderController.prototype.rooms,
      classIsController: context.getClass() === OrderController,
      feature: this.reflector.get('feature', context.getHandler()),
      // the platform's response of this very request (Express's `res.req`, Fastify's `reply.request`)
      responseIsPlatformResponse:
        (http.getResponse<{ req?: unknown; request?: unknown }>().request ??
          http.getResponse<{ req?: unknown }>().req) === request,
    });
    return true;
  }
}

@UseGuards(ClassGuard)
@Controller('order')
class OrderController {
  @UseGuards(MethodGuard, ContextGuard)
  @SetMetadata('feature', 'rooms')
  @WebSocketRoute('rooms/:room', EchoHandler)
  rooms() {}

  @UseGuards(MethodGuard)
  @Get('http')
  http() {
    return 'ok';
  }
}

@Module({
  imports: [WsModule.forRoot()],
  controllers: [OrderController],
  providers: [GuardLog, { provide: APP_GUARD, useClass: AppGuard }],
})
class OrderModule {}

// ---------------------------------------------------------------------------------------------
// Every way a guard can refuse, and guards that take their time.

@Injectable()
class FalseGuard implements CanActivate {
  canActivate() {
    return false;
  }
}
@Injectable()
class ObservableFalseGuard implements CanActivate {
  canActivate() {
    return of(false);
  }
}
@Injectable()
class TeapotGuard implements CanActivate {
  canActivate(): boolean {
    throw new HttpException('I will not upgrade', 418);
  }
}
@Injectable()
class ObjectBodyGuard implements CanActivate {
  canActivate(): boolean {
    throw new HttpException({ statusCode: 402, message: ['pay first'], error: 'Payment' }, 402);
  }
}
@Injectable()
class BrokenGuard implements CanActivate {
  canActivate(): boolean {
    throw new Error('database is down');
  }
}
@Injectable()
class HangingGuard implements CanActivate {
  canActivate() {
    return new Promise<boolean>(() => undefined);
  }
}
@Injectable()
class SlowGuard implements CanActivate {
  async canActivate() {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return true;
  }
}

/** Holds handshakes until the test releases them. */
@Injectable()
class GateGuard implements CanActivate {
  static entered = 0;
  static settled = 0;
  static release: () => void = () => undefined;
  async canActivate() {
    GateGuard.entered++;
    await new Promise<void>((resolve) => (GateGuard.release = resolve));
    GateGuard.settled++;
    return true;
  }
}

@Controller('guarded')
class GuardedController {
  @UseGuards(FalseGuard)
  @WebSocketRoute('false', EchoHandler)
  false() {}

  @UseGuards(ObservableFalseGuard)
  @WebSocketRoute('observable-false', EchoHandler)
  observableFalse() {}

  @UseGuards(TeapotGuard)
  @WebSocketRoute('teapot', EchoHandler)
  teapot() {}

  @UseGuards(ObjectBodyGuard)
  @WebSocketRoute('object-body', EchoHandler)
  objectBody() {}

  @UseGuards(BrokenGuard)
  @WebSocketRoute('broken', EchoHandler)
  broken() {}

  @UseGuards(HangingGuard)
  @WebSocketRoute('hanging', EchoHandler, { handshakeTimeoutMs: 200 })
  hanging() {}

  @UseGuards(SlowGuard)
  @WebSocketRoute('slow', EchoHandler)
  slow() {}

  @UseGuards(SlowGuard)
  @WebSocketRoute('slow/limited', EchoHandler, { maxConnections: 1 })
  slowLimited() {}

  @UseGuards(GateGuard)
  @WebSocketRoute('gate', EchoHandler)
  gate() {}

  @WebSocketRoute('free', EchoHandler)
  free() {}
}

@Module({ imports: [WsModule.forRoot()], controllers: [GuardedController] })
class GuardedModule {}

// ---------------------------------------------------------------------------------------------

describe.each(ADAPTERS)('guards at the handshake (%s)', (adapter) => {
  let app: INestApplication;
  let url: (path: string) => string;
  let port: number;
  const clients: WebSocket[] = [];

  afterEach(async () => {
    vi.restoreAllMocks();
    for (const client of clients.splice(0)) client.terminate();
    await app?.close();
  });

  const boot = async (module: object, configure?: (app: INestApplication) => void) =>
    ({ app, url, port } = await startApp({ imports: [module as never] }, configure, adapter));

  /** Opens a client and returns it with its first message (listened to before the open). */
  const openWithGreeting = async (path: string, headers?: Record<string, string>) => {
    const opened = await openClientWithGreeting(url(path), undefined, { headers });
    clients.push(opened.client);
    return opened;
  };

  const echoes = async (path: string, headers?: Record<string, string>) => {
    const client = await connect(url(path), undefined, { headers });
    clients.push(client);
    client.send('ping');
    return nextMessage(client);
  };

  /** A refusal with this status and a closed socket, after which a normal connection works. */
  const expectRefusal = async (refusal: Refusal, status: number, servingPath: string) => {
    expect(refusal.status).toBe(status);
    expect(refusal.closedByServer).toBe(true);
    expect(await echoes(servingPath)).toBe('ping');
  };

  describe('a bearer-token APP_GUARD with @Public() and a @Roles() guard', () => {
    it('answers 401 with the JSON body Nest gives the same guard on an HTTP route', async () => {
      await boot(AuthModule);
      seenByController.length = 0;
      const httpAnswer = await fetch(`http://127.0.0.1:${port}/secure/me`);
      const expected = await httpAnswer.json();
      expect(expected).toEqual({ statusCode: 401, message: 'Unauthorized' });
      const refusedHeaders: Record<string, string>[] = [
        {},
        { Authorization: 'Bearer wrong' },
        { Authorization: 'Basic x' },
      ];
      for (const headers of refusedHeaders) {
        const refusal = await refused(url('/secure/me'), undefined, { headers });
        expect(refusal.headers['content-type']).toMatch(/^application\/json/);
        expect(JSON.parse(refusal.body)).toEqual(expected);
        await expectRefusal(refusal, 401, '/secure/open');
      }
      expect(seenByController.length).toBe(0);
    });

    it('hands the authenticated user to the controller method and the handler', async () => {
      await boot(AuthModule);
      seenByController.length = 0;
      const viaHeader = await openWithGreeting('/secure/me', {
        Authorization: 'Bearer alice-token',
      });
      expect(JSON.parse(viaHeader.greeting as string)).toEqual({ name: 'alice', roles: ['user'] });
      const viaQuery = await openWithGreeting('/secure/me?token=root-token');
      expect(JSON.parse(viaQuery.greeting as string)).toMatchObject({ name: 'root' });
      expect(seenByController.map((user) => user?.name)).toEqual(['alice', 'root']);
      const http = await fetch(`http://127.0.0.1:${port}/secure/me`, {
        headers: { Authorization: 'Bearer alice-token' },
      });
      expect(await http.json()).toEqual({ name: 'alice', roles: ['user'] });
    });

    it('runs the role guard after the global one and answers 403 to a missing role', async () => {
      await boot(AuthModule);
      const refusal = await refused(url('/secure/admin?token=alice-token'));
      expect(JSON.parse(refusal.body)).toEqual({
        statusCode: 403,
        message: 'Forbidden resource',
        error: 'Forbidden',
      });
      await expectRefusal(refusal, 403, '/secure/open');
      expect((await refused(url('/secure/admin'))).status).toBe(401);
      const { greeting } = await openWithGreeting('/secure/admin?token=root-token');
      expect(JSON.parse(greeting as string)).toMatchObject({ name: 'root' });
    });

    it('lets @Public() routes and controllers in without a token', async () => {
      await boot(AuthModule);
      expect(await echoes('/secure/open')).toBe('ping');
      expect(await echoes('/public/echo')).toBe('ping');
    });
  });

  describe('order, injection and ExecutionContext', () => {
    it("runs global, controller and method guards in Nest's order, with injection", async () => {
      await boot(OrderModule, (nest) =>
        nest.useGlobalGuards(new UseGlobalGuard(nest.get(GuardLog))),
      );
      const log = app.get(GuardLog);
      await fetch(`http://127.0.0.1:${port}/order/http`);
      const httpOrder = log.entries.splice(0).map((entry) => entry.replace(/:http$/, ''));
      expect(await echoes('/order/rooms/lobby')).toBe('ping');
      const wsOrder = log.entries.splice(0);
      expect(wsOrder.every((entry) => entry.endsWith(':ws'))).toBe(true);
      expect(wsOrder.map((entry) => entry.replace(/:ws$/, ''))).toEqual(httpOrder);
      expect(httpOrder).toEqual(['APP_GUARD', 'useGlobalGuards', 'class', 'method']);
    });

    it("gives guards an 'http' context with the upgrade request, handler and class", async () => {
      await boot(OrderModule);
      const log = app.get(GuardLog);
      expect(await echoes('/order/rooms/the%20lobby?since=5&x=y')).toBe('ping');
      expect(log.contexts).toEqual([
        {
          type: 'http',
          isHandshake: true,
          params: { room: 'the lobby' },
          query: { since: '5', x: 'y' },
          host: `127.0.0.1:${port}`,
          handlerIsMethod: true,
          classIsController: true,
          feature: 'rooms',
          responseIsPlatformResponse: true,
        },
      ]);
    });
  });

  describe('refusals', () => {
    it('answers 403 when a guard returns false (or an Observable of false)', async () => {
      await boot(GuardedModule);
      for (const path of ['/guarded/false', '/guarded/observable-false']) {
        const refusal = await refused(url(path));
        expect(JSON.parse(refusal.body)).toEqual({
          statusCode: 403,
          message: 'Forbidden resource',
          error: 'Forbidden',
        });
        await expectRefusal(refusal, 403, '/guarded/free');
      }
    });

    it("answers an HttpException's status with its response as the JSON body", async () => {
      await boot(GuardedModule);
      const teapot = await refused(url('/guarded/teapot'));
      expect(JSON.parse(teapot.body)).toEqual({ statusCode: 418, message: 'I will not upgrade' });
      await expectRefusal(teapot, 418, '/guarded/free');
      const payment = await refused(url('/guarded/object-body'));
      expect(JSON.parse(payment.body)).toEqual({
        statusCode: 402,
        message: ['pay first'],
        error: 'Payment',
      });
      await expectRefusal(payment, 402, '/guarded/free');
    });

    it('answers 500 and logs when a guard throws anything else', async () => {
      await boot(GuardedModule);
      const logged = vi.spyOn(Logger.prototype, 'error');
      const refusal = await refused(url('/guarded/broken'));
      expect(JSON.parse(refusal.body)).toEqual({
        statusCode: 500,
        message: 'Internal server error',
      });
      // Logged by Nest's exception handler, as for an HTTP route (the handshake is a request of the app).
      expect(logged).toHaveBeenCalledTimes(1);
      expect(String(logged.mock.calls[0][0])).toContain('database is down');
      await expectRefusal(refusal, 500, '/guarded/free');
    });

    it('answers 503 when the guards do not settle within handshakeTimeoutMs', async () => {
      await boot(GuardedModule);
      const refusal = await refused(url('/guarded/hanging'));
      expect(refusal.headers['retry-after']).toMatch(/^\d+$/);
      expect(JSON.parse(refusal.body)).toMatchObject({ statusCode: 503 });
      await expectRefusal(refusal, 503, '/guarded/free');
    });

    it('writes no 101 and closes the socket (raw TCP)', async () => {
      await boot(GuardedModule);
      for (const path of ['/guarded/false', '/guarded/broken', '/guarded/hanging']) {
        const response = await rawRequest(port, handshakeRequest(path));
        expect(response.raw).not.toMatch(/^HTTP\/1\.1 101/m);
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.closedByServer).toBe(true);
      }
      expect(app.get(WebSocketRegistry).size).toBe(0);
    });
  });

  describe('guards that take their time', () => {
    it('opens once an async guard allows it', async () => {
      await boot(GuardedModule);
      expect(await echoes('/guarded/slow')).toBe('ping');
    });

    it('forgets a handshake whose client left while the guards ran', async () => {
      await boot(GuardedModule);
      GateGuard.entered = GateGuard.settled = 0;
      const client = new WebSocket(url('/guarded/gate'));
      client.on('error', () => undefined);
      await until(() => GateGuard.entered === 1, 3000, 'the guard to run');
      const serverSide = await new Promise<number>((resolve) =>
        app.getHttpServer().getConnections((_: unknown, count: number) => resolve(count)),
      );
      expect(serverSide).toBe(1);
      client.terminate();
      await until(() => client.readyState === WebSocket.CLOSED);
      GateGuard.release();
      await until(() => GateGuard.settled === 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(app.get(WebSocketRegistry).size).toBe(0);
      expect(await echoes('/guarded/free')).toBe('ping');
    });

    it('counts maxConnections again after the guards, so concurrent handshakes cannot exceed it', async () => {
      await boot(GuardedModule);
      const results = await Promise.allSettled([
        connect(url('/guarded/slow/limited')),
        connect(url('/guarded/slow/limited')),
      ]);
      for (const result of results) if (result.status === 'fulfilled') clients.push(result.value);
      expect(results.map((result) => result.status).toSorted()).toEqual(['fulfilled', 'rejected']);
      const rejection = results.find((result) => result.status === 'rejected');
      expect(String(rejection?.reason)).toContain('503');
    });
  });

  describe('cost', () => {
    it('routes without guards never touch the guard machinery', async () => {
      await boot(GuardedModule);
      // On an HTTP app Nest's router runs the guards, as for a GET route: none for a route without.
      expect(app.get(WsHost).handshakeGuards.size).toBe(0);
      const check = vi.spyOn(GuardsConsumer.prototype, 'tryActivate');
      expect(await echoes('/guarded/free')).toBe('ping');
      expect(check).not.toHaveBeenCalled();
      expect(await echoes('/guarded/slow')).toBe('ping');
      expect(check).toHaveBeenCalledTimes(1);
    });
  });
});
