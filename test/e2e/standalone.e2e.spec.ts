import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  UseGuards,
  type CanActivate,
  type INestApplicationContext,
  type ModuleMetadata,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  EchoHandler,
  serveWebSockets,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
  WsServer,
  type ServedWebSockets,
  type WsModuleOptions,
} from '../../src/index.js';
import { ADAPTERS, closed, connect, nextMessage, startApp, until } from '../support/app.js';
import { startProcess } from '../support/process.js';
import { handshakeRequest, rawRequest } from '../support/raw-http.js';
import { selfSignedCertificate } from '../support/tls.js';

const GREETING = Symbol('greeting');

/** Greets `:name` with an injected word, then echoes. */
@Injectable()
class GreetHandler extends WebSocketHandler {
  constructor(@Inject(GREETING) private readonly word: string) {
    super();
  }
  override onOpen() {
    this.send(`${this.word} ${this.params.name}`);
  }
}

const greetingProvider = { provide: GREETING, useValue: 'hello' };

class DenyAll implements CanActivate {
  canActivate() {
    return false;
  }
}

@Controller()
class RoutesController {
  @WebSocketRoute('echo', EchoHandler)
  echo() {}

  @WebSocketRoute('greet/:name', GreetHandler)
  greet() {}

  @UseGuards(DenyAll)
  @WebSocketRoute('guarded', EchoHandler)
  guarded() {}

  @Get('health')
  health() {
    return { ok: true };
  }
}

const LOCAL = { port: 0, host: '127.0.0.1' } satisfies WsModuleOptions;
const metadata = (options: WsModuleOptions): ModuleMetadata => ({
  imports: [WsModule.forRoot(options)],
  controllers: [RoutesController],
  providers: [greetingProvider],
});

/** A Nest application context (no HTTP adapter) with the given module metadata. */
async function startContext(moduleMetadata: ModuleMetadata): Promise<INestApplicationContext> {
  @Module(moduleMetadata)
  class ContextModule {}
  return NestFactory.createApplicationContext(ContextModule, { logger: false });
}

/** The first message of a new client, listened to before the handshake completes. */
function greeting(url: string, options?: ConstructorParameters<typeof WebSocket>[2]) {
  const client = new WebSocket(url, options);
  return { client, message: nextMessage(client) };
}

const plainGet = (port: number, path: string) =>
  rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 300);

const clients: WebSocket[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.terminate();
});

describe.each(ADAPTERS)('standalone port in an HTTP app (%s)', (adapter) => {
  it('serves the routes on its own port only; the app keeps its HTTP routes', async () => {
    const { app, port: httpPort } = await startApp(metadata(LOCAL), undefined, adapter);
    try {
      const server = app.get(WsServer);
      expect(server.isStandalone).toBe(true);
      const wsPort = server.address()!.port;
      expect(wsPort).not.toBe(httpPort);
      const { client, message } = greeting(server.url('/greet/ada'));
      clients.push(client);
      expect(await message).toBe('hello ada');
      expect(app.get(WebSocketRegistry).size).toBe(1);
      // The app's own port neither upgrades nor answers 426 on the WebSocket paths.
      expect((await rawRequest(httpPort, handshakeRequest('/echo'), 300)).status).toBe(404);
      expect((await plainGet(httpPort, '/echo')).status).toBe(404);
      expect((await plainGet(httpPort, '/health')).status).toBe(200);
      expect((await plainGet(wsPort, '/health')).status).toBe(426);
    } finally {
      await app.close();
    }
  });
});

describe('standalone port without HTTP (application context)', () => {
  let app: INestApplicationContext;
  let server: WsServer;
  beforeAll(async () => {
    app = await startContext(metadata(LOCAL));
    server = app.get(WsServer);
  });
  afterAll(() => app.close());

  it('serves the routes with injection and guards, and tracks them in the registry', async () => {
    expect(server.isStandalone).toBe(true);
    expect(server.url('/echo')).toBe(`ws://127.0.0.1:${server.address()!.port}/echo`);
    const { client, message } = greeting(server.url('/greet/grace'));
    clients.push(client);
    expect(await message).toBe('hello grace');
    const echo = await connect(server.url('/echo'));
    clients.push(echo);
    echo.send(Buffer.from([1, 2, 3]));
    expect([...((await nextMessage(echo)) as Buffer)]).toEqual([1, 2, 3]);
    await until(() => app.get(WebSocketRegistry).size === 2);
    const port = server.address()!.port;
    expect((await rawRequest(port, handshakeRequest('/guarded'))).status).toBe(403);
  });

  it('answers every plain HTTP request with 426, and an upgrade to no route with 404', async () => {
    const port = server.address()!.port;
    for (const path of ['/echo', '/', '/anything']) {
      const response = await plainGet(port, path);
      expect(response.status).toBe(426);
      expect(response.headers.upgrade).toBe('websocket');
    }
    const response = await rawRequest(port, handshakeRequest('/nowhere'));
    expect(response.status).toBe(404);
    expect(response.closedByServer).toBe(true);
  });
});

describe('standalone port: bootstrap and shutdown', () => {
  it('closes connections with 1001, then stops listening, and app.close() resolves', async () => {
    const app = await startContext(metadata(LOCAL));
    const server = app.get(WsServer);
    const port = server.address()!.port;
    const client = await connect(server.url('/echo'));
    const done = closed(client);
    await app.close();
    expect((await done).code).toBe(1001);
    expect(server.address()).toBeNull();
    await expect(connect(`ws://127.0.0.1:${port}/echo`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('warns, and serves nothing, in an application context without a port', async () => {
    const warnings: string[] = [];
    @Module(metadata({}))
    class NoPortModule {}
    const app = await NestFactory.createApplicationContext(NoPortModule, {
      logger: {
        log: () => undefined,
        error: () => undefined,
        warn: (message: string) => void warnings.push(message),
      },
    });
    try {
      expect(app.get(WsServer).httpServer).toBeUndefined();
      expect(warnings.join('\n')).toMatch(
        /no HTTP server to serve them from: give WsModule.forRoot\(\) a port/,
      );
    } finally {
      await app.close();
    }
  });

  it('fails bootstrap when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as import('node:net').AddressInfo;
    try {
      await expect(startContext(metadata({ port, host: '127.0.0.1' }))).rejects.toThrow(
        /EADDRINUSE/,
      );
    } finally {
      blocker.close();
    }
  });
});

describe('standalone port with TLS (wss://)', () => {
  let key: Buffer;
  let cert: Buffer;
  beforeAll(() => ({ key, cert } = selfSignedCertificate()));

  it('serves wss:// with the given key and certificate', async () => {
    const app = await startContext(metadata({ ...LOCAL, https: { key, cert } }));
    try {
      const server = app.get(WsServer);
      expect(server.isSecure).toBe(true);
      expect(server.url('/echo')).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/echo$/);
      // Trusting exactly this certificate: the client verifies it.
      const client = await connect(server.url('/echo'), undefined, { ca: cert });
      clients.push(client);
      client.send('over tls');
      expect(await nextMessage(client)).toBe('over tls');
      // A client that does not trust it is refused by TLS, not by us.
      await expect(connect(server.url('/echo'))).rejects.toThrow(/self-signed|self signed/);
    } finally {
      await app.close();
    }
  });
});

describe('serveWebSockets()', () => {
  let served: ServedWebSockets | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  it('serves the given routes from a minimal context, with providers for the handlers', async () => {
    served = await serveWebSockets({
      ...LOCAL,
      routes: { '/': EchoHandler, '/greet/:name': GreetHandler },
      providers: [greetingProvider],
      logger: false,
    });
    expect(served.address().port).toBeGreaterThan(0);
    const echo = await connect(served.url());
    clients.push(echo);
    echo.send('echo');
    expect(await nextMessage(echo)).toBe('echo');
    const { client, message } = greeting(served.url('/greet/linus'));
    clients.push(client);
    expect(await message).toBe('hello linus');
    await until(() => served!.registry.size === 2);
    expect((await plainGet(served.address().port, '/')).status).toBe(426);
  });

  it('rejects, without aborting the process, when a handler cannot be built', async () => {
    await expect(
      serveWebSockets({ ...LOCAL, routes: { '/greet/:name': GreetHandler }, logger: false }),
    ).rejects.toThrow(/resolve dependencies/);
  });

  it('close() closes every connection with 1001 and frees the port', async () => {
    served = await serveWebSockets({ ...LOCAL, routes: { '/': EchoHandler }, logger: false });
    const { port } = served.address();
    const client = await connect(served.url('/'));
    const done = closed(client);
    await served.close();
    served = undefined;
    expect((await done).code).toBe(1001);
    await expect(connect(`ws://127.0.0.1:${port}/`)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('reference sample with WS_PORT (built, run as its own process)', () => {
  it('serves /echo on WS_PORT with no HTTP server, and closes with 1001 on SIGTERM', async () => {
    const sample = await startProcess(
      'dist/sample/main.js',
      { WS_PORT: '0', HOST: '127.0.0.1' },
      /WebSocket routes on ws:\/\/127\.0\.0\.1:(\d+)\//,
    );
    const port = Number(sample.match[1]);
    const client = await connect(`ws://127.0.0.1:${port}/echo`);
    client.send('standalone sample');
    expect(await nextMessage(client)).toBe('standalone sample');
    expect((await plainGet(port, '/echo')).status).toBe(426);
    expect(sample.output()).not.toMatch(/Listening on http/);
    const done = closed(client);
    sample.child.kill('SIGTERM');
    expect((await done).code).toBe(1001);
    expect(await sample.exited).toBe('SIGTERM');
  });
});
