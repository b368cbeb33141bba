import { Controller, Injectable, Module, Scope, type Provider, type Type } from '@nestjs/common';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  EchoHandler,
  WebSocketHandler,
  WebSocketRoute,
  WsModule,
  type WebSocketRouteOptions,
  type WsModuleOptions,
} from '../../src/index.js';
import {
  duplicateRouteMessage,
  handlerDependenciesMessage,
  invalidOptionMessage,
  notAHandlerMessage,
  requestScopedHandlerMessage,
} from '../../src/ws.messages.js';
import {
  invalidHistoryOptionMessage,
  invalidPositionCheckMessage,
} from '../../src/history/history.messages.js';
import { portFor, SERVERS, startApp, startOn, type ServerName } from '../support/app.js';

@Injectable({ scope: Scope.REQUEST })
class PerRequestContext {}

@Injectable({ scope: Scope.TRANSIENT })
class AuditTrail {
  constructor(readonly context: PerRequestContext) {}
}

@Injectable()
class NotProvided {}

@Injectable()
class RequestScopedHandler extends WebSocketHandler {
  constructor(readonly context: PerRequestContext) {
    super();
  }
}

@Injectable()
class TransientHandler extends WebSocketHandler {
  constructor(readonly audit: AuditTrail) {
    super();
  }
}

@Injectable()
class MissingDependencyHandler extends WebSocketHandler {
  constructor(readonly missing: NotProvided) {
    super();
  }
}

/** A controller `@Controller('boot')` with one route `/boot/x` (`<name>.x`). */
function routeController(
  name: string,
  handler: Type<WebSocketHandler> | undefined,
  options?: WebSocketRouteOptions,
): Type {
  @Controller('boot')
  class RouteController {
    @WebSocketRoute('x', handler as Type<WebSocketHandler>, options)
    x() {}
  }
  Object.defineProperty(RouteController, 'name', { value: name });
  return RouteController;
}

/** Bootstraps an app with `controllers` on `server` and returns the error it fails with. */
async function bootstrapError(
  server: ServerName,
  controllers: Type[],
  providers: Provider[] = [],
  moduleOptions: WsModuleOptions = {},
): Promise<Error> {
  @Module({
    imports: [WsModule.forRoot({ ...moduleOptions, ...portFor(server) })],
    controllers,
    providers,
  })
  class BootModule {}
  return startOn(server, { imports: [BootModule] }).then(
    async ({ app }) => {
      await app.close();
      return new Error('bootstrap succeeded');
    },
    (error: Error) => error,
  );
}

describe.each(SERVERS)(
  "bootstrap errors name the user's classes, paths and the fix (%s)",
  (server) => {
    it('a handler injecting a request-scoped provider', async () => {
      const error = await bootstrapError(
        server,
        [routeController('ChatController', RequestScopedHandler)],
        [PerRequestContext],
      );
      expect(error.message).toBe(
        requestScopedHandlerMessage('RequestScopedHandler', '"/boot/x" (ChatController.x)', [
          'PerRequestContext',
        ]),
      );
      expect(error.message).toContain('moduleRef.resolve(PerRequestContext)');
      expect(error.message).not.toContain('DependencyProbe');
    });

    it('a handler injecting a transient provider that depends on a request-scoped one', async () => {
      const error = await bootstrapError(
        server,
        [routeController('ChatController', TransientHandler)],
        [PerRequestContext, AuditTrail],
      );
      expect(error.message).toBe(
        requestScopedHandlerMessage('TransientHandler', '"/boot/x" (ChatController.x)', [
          'AuditTrail',
        ]),
      );
    });

    it('a handler whose dependency the module does not provide', async () => {
      const error = await bootstrapError(server, [
        routeController('ChatController', MissingDependencyHandler),
      ]);
      expect(error.message).toContain(
        handlerDependenciesMessage('MissingDependencyHandler', '"/boot/x" (ChatController.x)', ''),
      );
      expect(error.message).toContain(
        "Nest can't resolve dependencies of the MissingDependencyHandler (?)",
      );
      expect(error.message).toContain('NotProvided');
      expect(error.message).not.toContain('DependencyProbe');
    });

    it('two routes with the same full path', async () => {
      const error = await bootstrapError(server, [
        routeController('FirstController', EchoHandler),
        routeController('SecondController', EchoHandler),
      ]);
      expect(error.message).toBe(
        duplicateRouteMessage('/boot/x', 'FirstController.x', 'SecondController.x'),
      );
    });

    it('a route naming no handler class (an import cycle leaves it undefined)', async () => {
      const error = await bootstrapError(server, [routeController('ChatController', undefined)]);
      expect(error.message).toBe(notAHandlerMessage('"/boot/x" (ChatController.x)', undefined));
    });

    it('bad options, on the route or in WsModule.forRoot()', async () => {
      const label = '"/boot/x" (ChatController.x)';
      const misspelt = await bootstrapError(server, [
        routeController('ChatController', EchoHandler, {
          backpressure: 'block' as WebSocketRouteOptions['backpressure'],
        }),
      ]);
      expect(misspelt.message).toBe(
        invalidOptionMessage(label, 'backpressure', 'block', "'close' or 'drop'"),
      );
      const negative = await bootstrapError(
        server,
        [routeController('ChatController', EchoHandler)],
        [],
        { closeTimeoutMs: -1 },
      );
      expect(negative.message).toBe(
        invalidOptionMessage(
          label,
          'closeTimeoutMs',
          -1,
          'an integer of milliseconds from 0 to 2147483647',
        ),
      );
      // Longer than Node's longest timer: Node would fire it after 1 ms, closing every connection.
      for (const [option, value] of [
        ['heartbeatMs', 3_000_000_000],
        ['idleTimeoutMs', 10_000_000_000],
        ['closeTimeoutMs', 2 ** 31],
        ['handshakeTimeoutMs', 2 ** 31],
      ] as const) {
        const tooLong = await bootstrapError(server, [
          routeController('ChatController', EchoHandler, { [option]: value }),
        ]);
        expect(tooLong.message).toBe(
          invalidOptionMessage(
            label,
            option,
            value,
            `an integer of milliseconds from ${option === 'handshakeTimeoutMs' ? 1 : 0} to 2147483647`,
          ),
        );
      }
      // A number parsed from an unset environment variable: the message says NaN, not null.
      const parsed = await bootstrapError(server, [
        routeController('ChatController', EchoHandler, { heartbeatMs: Number(undefined) }),
      ]);
      expect(parsed.message).toContain(
        `${label}: option heartbeatMs is NaN; expected an integer of milliseconds from 0 to 2147483647`,
      );
      // An origin without its scheme would never match a browser's Origin: refused at bootstrap.
      const schemeless = await bootstrapError(server, [
        routeController('ChatController', EchoHandler, { allowedOrigins: ['app.example.com'] }),
      ]);
      expect(schemeless.message).toBe(
        invalidOptionMessage(
          label,
          'allowedOrigins',
          'app.example.com',
          "an origin such as 'https://app.example.com'",
        ),
      );
    });

    it('bad history options: size 0, a NaN ttlMs, a negative recoveryLimit, a payload that is not a function', async () => {
      const route = [routeController('ChatController', EchoHandler)];
      const cases: [WsModuleOptions['history'], string, string, unknown][] = [
        [{ topics: { 'room:*': { size: 0 } } }, 'topics["room:*"]', 'size', 0],
        [{ default: { ttlMs: Number(undefined) } }, 'default', 'ttlMs', NaN],
        [{ topics: { news: { recoveryLimit: -5 } } }, 'topics["news"]', 'recoveryLimit', -5],
        [{ default: { size: 1.5 } }, 'default', 'size', 1.5],
        [{ default: { payload: 'json' as never } }, 'default', 'payload', 'json'],
      ];
      for (const [history, where, option, value] of cases) {
        const error = await bootstrapError(server, route, [], { history });
        expect(error.message).toBe(invalidHistoryOptionMessage(where, option, value));
      }
      expect(invalidHistoryOptionMessage('default', 'ttlMs', NaN)).toBe(
        'WsModule.forRoot({ history }): default.ttlMs is NaN; expected an integer >= 1, or none for the default.',
      );
    });

    it('a positionCheckMs that is not a time: negative, fractional, NaN, a string', async () => {
      const route = [routeController('ChatController', EchoHandler)];
      for (const value of [-1, 1.5, Number.NaN, '40000', 2 ** 31]) {
        const history = { default: {}, positionCheckMs: value as number };
        const error = await bootstrapError(server, route, [], { history });
        expect(error.message).toBe(invalidPositionCheckMessage(value));
      }
      expect(invalidPositionCheckMessage(-1)).toBe(
        'WsModule.forRoot({ history }): positionCheckMs is -1; expected an integer of milliseconds from 0 (no check) to 2147483647, or none for the default (40000).',
      );
    });
  },
);

describe('bootstrap errors of the standalone port', () => {
  it('a taken port names the option and the fix', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    @Module({
      imports: [WsModule.forRoot({ port, host: '127.0.0.1' })],
      controllers: [routeController('ChatController', EchoHandler)],
    })
    class TakenPortModule {}
    try {
      await expect(startApp({ imports: [TakenPortModule] })).rejects.toThrow(
        `The WebSocket server of WsModule.forRoot({ port: ${port} }) cannot listen on 127.0.0.1: ` +
          `listen EADDRINUSE: address already in use 127.0.0.1:${port}. Choose another port`,
      );
    } finally {
      blocker.close();
    }
  });
});
