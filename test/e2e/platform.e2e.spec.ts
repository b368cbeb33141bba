import {
  Controller,
  Get,
  Injectable,
  Module,
  RequestMethod,
  Version,
  VersioningType,
  type INestApplication,
} from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { WsAdapter } from '@nestjs/platform-ws';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import {
  EchoHandler,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
  WsServer,
} from '../../src/index.js';
import { ADAPTERS, closed, connect, nextMessage, startApp, until } from '../support/app.js';
import { handshakeRequest, rawRequest } from '../support/raw-http.js';
import { selfSignedCertificate } from '../support/tls.js';

@Injectable()
class PathHandler extends WebSocketHandler {
  override onOpen() {
    this.send(this.path);
  }
}

@Controller()
class EchoController {
  @WebSocketRoute('echo', EchoHandler)
  echo() {}

  @Get('both')
  httpBoth() {
    return { from: 'http' };
  }

  @WebSocketRoute('both', PathHandler)
  wsBoth() {}

  @Get('health')
  health() {
    return { ok: true };
  }

  @WebSocketRoute('open', PathHandler)
  open() {}
}

@Controller({ path: 'versioned', version: '1' })
class VersionedController {
  @WebSocketRoute('ws', PathHandler)
  v1() {}

  @Version('2')
  @WebSocketRoute('ws', PathHandler)
  v2() {}
}

@Controller('feature')
class FeatureController {
  @WebSocketRoute('ws', PathHandler)
  ws() {}
}

@Module({ controllers: [FeatureController] })
class FeatureModule {}

@WebSocketGateway({ path: '/gateway' })
class PingGateway {
  @SubscribeMessage('ping')
  ping(@MessageBody() data: string) {
    return { event: 'pong', data };
  }
}

/** A plain GET; read for a short while, as the answer may keep the connection alive. */
const plainGet = (port: number, path: string) =>
  rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 300);

describe.each(ADAPTERS)('platform: where routes are served from (%s)', (adapter) => {
  const apps: INestApplication[] = [];
  const clients: WebSocket[] = [];
  const open = async (url: string, options?: ClientOptions) => {
    const client = await connect(url, undefined, options);
    clients.push(client);
    return client;
  };
  /** The message a route sends at open: listened to before the handshake completes. */
  const greeting = (url: string) => {
    const client = new WebSocket(url);
    clients.push(client);
    return nextMessage(client);
  };
  const start = async (...args: Parameters<typeof startApp>) => {
    const started = await startApp(args[0], args[1], args[2] ?? adapter, args[3]);
    apps.push(started.app);
    return started;
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    for (const app of apps.splice(0)) await app.close();
  });

  it('answers a plain GET to a WebSocket path with 426 and an Upgrade header', async () => {
    const { port } = await start({ imports: [WsModule.forRoot()], controllers: [EchoController] });
    const response = await plainGet(port, '/echo');
    expect(response.status).toBe(426);
    expect(response.headers.upgrade).toBe('websocket');
    expect(JSON.parse(response.body)).toMatchObject({ statusCode: 426 });
  });

  it('leaves plain GETs to an HTTP route on the same path, and upgrades WebSocket handshakes there', async () => {
    const { port, url } = await start({
      imports: [WsModule.forRoot()],
      controllers: [EchoController],
    });
    const response = await plainGet(port, '/both');
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ from: 'http' });
    expect(await greeting(url('/both'))).toBe('/both');
  });

  it('applies the global prefix with its exclude rules', async () => {
    const { port, url } = await start(
      { imports: [WsModule.forRoot()], controllers: [EchoController] },
      (app) => {
        app.setGlobalPrefix('api', {
          exclude: ['health', { path: 'open', method: RequestMethod.GET }],
        });
      },
    );
    const echo = await open(url('/api/echo'));
    echo.send('prefixed');
    expect(await nextMessage(echo)).toBe('prefixed');
    expect((await rawRequest(port, handshakeRequest('/echo'))).status).toBe(404);
    expect((await plainGet(port, '/api/echo')).status).toBe(426);
    // Excluded from the prefix, as the HTTP route 'health' is.
    expect(await greeting(url('/open'))).toBe('/open');
    expect((await rawRequest(port, handshakeRequest('/api/open'))).status).toBe(404);
    expect((await plainGet(port, '/health')).status).toBe(200);
  });

  it('applies URI versioning (controller and @Version()) after the prefix', async () => {
    const { url } = await start(
      { imports: [WsModule.forRoot()], controllers: [VersionedController] },
      (app) => {
        app.setGlobalPrefix('api');
        app.enableVersioning({ type: VersioningType.URI });
      },
    );
    expect(await greeting(url('/api/v1/versioned/ws'))).toBe('/api/v1/versioned/ws');
    expect(await greeting(url('/api/v2/versioned/ws'))).toBe('/api/v2/versioned/ws');
  });

  it("applies RouterModule's module path", async () => {
    const { url } = await start({
      imports: [
        WsModule.forRoot(),
        FeatureModule,
        RouterModule.register([{ path: 'admin', module: FeatureModule }]),
      ],
    });
    expect(await greeting(url('/admin/feature/ws'))).toBe('/admin/feature/ws');
  });

  it('lives beside a @nestjs/websockets gateway (WsAdapter) on the same server', async () => {
    const { port, url } = await start(
      { imports: [WsModule.forRoot()], controllers: [EchoController], providers: [PingGateway] },
      (app) => {
        app.useWebSocketAdapter(new WsAdapter(app));
      },
    );
    // WsAdapter destroys every upgrade whose path it does not own: ours must not reach it.
    const ours = await open(url('/echo'));
    const gateway = await open(url('/gateway'));
    ours.send('ours');
    gateway.send(JSON.stringify({ event: 'ping', data: 'theirs' }));
    expect(await nextMessage(ours)).toBe('ours');
    expect(JSON.parse((await nextMessage(gateway)) as string)).toEqual({
      event: 'pong',
      data: 'theirs',
    });
    // Still ours after both connected, and the gateway's connection is not in our registry.
    ours.send('again');
    expect(await nextMessage(ours)).toBe('again');
    expect(apps[0].get(WebSocketRegistry).size).toBe(1);
    // A path nobody owns is left to WsAdapter, which closes it: no 101 from anyone.
    await expect(rawRequest(port, handshakeRequest('/nobody'), 1000)).rejects.toThrow(
      /no response/,
    );
  });

  it("serves wss:// from an HTTPS app (the app's own TLS)", async () => {
    const tls = selfSignedCertificate();
    const { app } =
      adapter === 'fastify'
        ? await start(
            { imports: [WsModule.forRoot()], controllers: [EchoController] },
            undefined,
            new FastifyAdapter({ https: tls }),
          )
        : await start(
            { imports: [WsModule.forRoot()], controllers: [EchoController] },
            undefined,
            undefined,
            { httpsOptions: tls },
          );
    const server = app.get(WsServer);
    expect(server.isSecure).toBe(true);
    const client = await open(server.url('/echo'), { ca: tls.cert });
    client.send('secure');
    expect(await nextMessage(client)).toBe('secure');
  });

  it('closes every connection with 1001 at app.close() and resolves, also with forceCloseConnections', async () => {
    for (const forceCloseConnections of [false, true]) {
      const { app, url } = await start(
        { imports: [WsModule.forRoot()], controllers: [EchoController] },
        undefined,
        undefined,
        { forceCloseConnections },
      );
      const client = await open(url('/echo'));
      const done = closed(client);
      await app.close();
      apps.splice(apps.indexOf(app), 1);
      expect(await done).toMatchObject({ code: 1001 });
    }
  });

  it('keeps two apps in one process apart: each serves and sees only its own sockets', async () => {
    const a = await start({ imports: [WsModule.forRoot()], controllers: [EchoController] });
    const b = await start({ imports: [WsModule.forRoot()], controllers: [EchoController] });
    const registryA = a.app.get(WebSocketRegistry);
    const registryB = b.app.get(WebSocketRegistry);
    expect(registryA).not.toBe(registryB);
    expect(a.app.get(WsServer).address()?.port).toBe(a.port);
    expect(b.app.get(WsServer).address()?.port).toBe(b.port);
    const clientA = await open(a.url('/echo'));
    const clientsB = [await open(b.url('/echo')), await open(b.url('/echo'))];
    await until(() => registryA.size === 1 && registryB.size === 2);
    expect(a.app.getHttpServer().listenerCount('upgrade')).toBe(1);
    expect(b.app.getHttpServer().listenerCount('upgrade')).toBe(1);
    const toB = Promise.all(clientsB.map((client) => nextMessage(client)));
    expect(registryB.broadcast('to b')).toBe(2);
    expect(await toB).toEqual(['to b', 'to b']);
    const aClosed = closed(clientA);
    await a.app.close();
    apps.splice(apps.indexOf(a.app), 1);
    expect((await aClosed).code).toBe(1001);
    expect(registryB.size).toBe(2);
    clientsB[0].send('b lives');
    expect(await nextMessage(clientsB[0])).toBe('b lives');
  });
});
