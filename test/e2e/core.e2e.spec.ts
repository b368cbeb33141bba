import { Controller, Injectable, Module, type INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EchoHandler,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
  type WebSocketMessage,
} from '../../src/index.js';
import { connectWebSocket } from '../../src/testing/index.js';
import { ADAPTERS, startApp, until } from '../support/app.js';
import { handshakeRequest, rawRequest } from '../support/raw-http.js';

@Injectable()
class Greeter {
  hello(name: string) {
    return `hello ${name}`;
  }
}

@Injectable()
class GreetHandler extends WebSocketHandler {
  constructor(private readonly greeter: Greeter) {
    super();
  }
  override onOpen() {
    this.send(this.greeter.hello(this.params.name));
  }
  override onMessage(data: WebSocketMessage) {
    this.send(data);
  }
}

const events: string[] = [];

@Injectable()
class SlowOpenHandler extends WebSocketHandler {
  override async onOpen() {
    events.push('open:start');
    await new Promise((resolve) => setTimeout(resolve, 100));
    events.push('open:end');
  }
  override onMessage(data: WebSocketMessage) {
    events.push(`message:${data as string}`);
    this.send(`got ${data as string}`);
  }
  override onClose(code: number) {
    events.push(`close:${code}`);
  }
}

/** A subclass that overrides onMessage: it must see text as strings, not the echo fast path's Buffers. */
@Injectable()
class ShoutHandler extends EchoHandler {
  override onMessage(data: WebSocketMessage) {
    this.send(typeof data === 'string' ? data.toUpperCase() : data);
  }
}

@Injectable()
class ThrowingHandler extends WebSocketHandler {
  override onMessage(data: WebSocketMessage) {
    if (data === 'throw') throw new Error('boom');
    if (data === 'reject') return Promise.reject(new Error('async boom'));
    this.send(data);
  }
}

@Injectable()
class InfoHandler extends WebSocketHandler {
  override onOpen() {
    this.send(
      JSON.stringify({
        path: this.path,
        params: this.params,
        query: Object.fromEntries(this.query),
        protocol: this.protocol,
        remoteAddress: this.remoteAddress,
        isOpen: this.isOpen,
        id: this.id,
        url: this.request.url,
      }),
    );
  }
}

const closes: { code: number; reason: string }[] = [];

@Injectable()
class CloseRecorder extends WebSocketHandler {
  override onClose(code: number, reason: string) {
    closes.push({ code, reason });
  }
}

const controllerCalls: string[] = [];

// The platform's router decides, as for GET routes: Express matches in declaration order, so the
// literal path comes before the parameter that would also match it.
@Controller('greet')
class GreetController {
  @WebSocketRoute('/echo', EchoHandler)
  echo() {}

  @WebSocketRoute(':name', GreetHandler)
  opened(handler: GreetHandler) {
    controllerCalls.push(`opened ${handler.params.name} ${handler.isOpen}`);
  }
}

@Controller()
class MiscController {
  @WebSocketRoute('slow', SlowOpenHandler)
  async slow() {
    events.push('controller:start');
    await new Promise((resolve) => setTimeout(resolve, 50));
    events.push('controller:end');
  }

  @WebSocketRoute('throwing', ThrowingHandler)
  throwing() {}

  @WebSocketRoute('info/:a/:b', InfoHandler)
  info() {}

  @WebSocketRoute('records', CloseRecorder)
  records() {}

  @WebSocketRoute('controller-throws', EchoHandler)
  controllerThrows() {
    throw new Error('controller failed');
  }

  @WebSocketRoute('shout', ShoutHandler)
  shout() {}

  @WebSocketRoute('small', EchoHandler, { maxPayload: 16 })
  small() {}
}

@Module({
  imports: [WsModule.forRoot({ closeTimeoutMs: 1000 })],
  controllers: [GreetController, MiscController],
  providers: [Greeter],
})
class AppModule {}

describe.each(ADAPTERS)('core: WebSocket routes in a Nest app (%s)', (adapter) => {
  let app: INestApplication;
  let port: number;
  // Clients opened by connectWebSocket are closed with the app.
  const open = (path: string) => connectWebSocket(app, path);

  afterEach(async () => {
    await app?.close();
  });

  const boot = async () =>
    ({ app, port } = await startApp({ imports: [AppModule] }, undefined, adapter));

  it('injects the handler from the declaring module, fills params, calls the controller method before onOpen', async () => {
    await boot();
    controllerCalls.length = 0;
    const client = await open('/greet/ada');
    expect(await client.nextMessage()).toBe('hello ada');
    expect(controllerCalls).toEqual(['opened ada true']);
  });

  it('echoes text as text and binary as binary', async () => {
    await boot();
    const client = await open('/greet/echo');
    client.send('text');
    expect(await client.nextMessage()).toBe('text');
    client.send(Buffer.from([1, 2, 3]));
    const binary = await client.nextMessage();
    expect(Buffer.isBuffer(binary)).toBe(true);
    expect([...(binary as Buffer)]).toEqual([1, 2, 3]);
  });

  it('echoes multi-byte text intact, and hands text as a string to a subclass that overrides onMessage', async () => {
    await boot();
    const echo = await open('/greet/echo');
    echo.send('héllo ✓ 😀');
    expect(await echo.nextMessage()).toBe('héllo ✓ 😀');
    const shout = await open('/shout');
    shout.send('quiet');
    expect(await shout.nextMessage()).toBe('QUIET');
    shout.send(Buffer.from([9]));
    expect(Buffer.isBuffer(await shout.nextMessage())).toBe(true);
  });

  it('exposes path, params (decoded), query, protocol, remote address and id', async () => {
    await boot();
    const client = await open('/info/x%20y/2?room=a&n=1');
    const info = JSON.parse((await client.nextMessage()) as string);
    expect(info).toMatchObject({
      path: '/info/:a/:b',
      params: { a: 'x y', b: '2' },
      query: { room: 'a', n: '1' },
      protocol: '',
      remoteAddress: '127.0.0.1',
      isOpen: true,
      url: '/info/x%20y/2?room=a&n=1',
    });
    expect(info.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 404 and closes the socket for a path with no route', async () => {
    await boot();
    const response = await rawRequest(port, handshakeRequest('/nowhere'));
    expect(response.status).toBe(404);
    expect(response.raw).not.toContain('101');
    expect(response.closedByServer).toBe(true);
  });

  it('leaves a path with no route to another upgrade listener, untouched', async () => {
    await boot();
    const server = app.getHttpServer();
    server.on('upgrade', (request: { url: string }, socket: import('node:net').Socket) => {
      if (request.url === '/other')
        socket.end('HTTP/1.1 418 I am a teapot\r\nConnection: close\r\n\r\n');
    });
    const response = await rawRequest(port, handshakeRequest('/other'));
    expect(response.status).toBe(418);
  });

  it('keeps its own paths from an upgrade listener added after it that destroys what it does not own', async () => {
    await boot();
    // As @nestjs/platform-ws's WsAdapter does, added once the routes are bound.
    app.getHttpServer().on('upgrade', (_request: unknown, socket: import('node:net').Socket) => {
      socket.destroy();
    });
    const client = await open('/greet/echo');
    client.send('still ours');
    expect(await client.nextMessage()).toBe('still ours');
    await client.close();
  });

  it('holds messages that arrive while the controller method and onOpen run, then delivers them in order', async () => {
    await boot();
    events.length = 0;
    const client = await open('/slow');
    client.send('1');
    client.send('2');
    client.send('3');
    const replies = [await client.nextMessage(), await client.nextMessage()];
    replies.push(await client.nextMessage());
    expect(replies).toEqual(['got 1', 'got 2', 'got 3']);
    expect(events).toEqual([
      'controller:start',
      'controller:end',
      'open:start',
      'open:end',
      'message:1',
      'message:2',
      'message:3',
    ]);
  });

  it('drops the held messages when the peer closes before onOpen settled: onClose at once, no onMessage', async () => {
    await boot();
    events.length = 0;
    const client = await open('/slow');
    client.send('1');
    client.send('2');
    expect((await client.close(4001)).code).toBe(4001);
    // the controller method takes 50 ms and onOpen 100 ms: wait past both
    await until(() => events.includes('controller:end'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events.filter((event) => event.startsWith('message:'))).toEqual([]);
    expect(events.filter((event) => event.startsWith('close:'))).toEqual(['close:4001']);
    // onOpen runs only if the close came after the controller method returned, and then ends last
    const opened = events.includes('open:start');
    expect(events.at(-1)).toBe(opened ? 'open:end' : 'controller:end');
  });

  it('closes with 1011 when a hook throws or rejects, and other connections go on', async () => {
    await boot();
    const bystander = await open('/greet/echo');
    const thrower = await open('/throwing');
    const rejecter = await open('/throwing');
    thrower.send('throw');
    rejecter.send('reject');
    expect((await thrower.closed).code).toBe(1011);
    expect((await rejecter.closed).code).toBe(1011);
    bystander.send('still here');
    expect(await bystander.nextMessage()).toBe('still here');
  });

  it('closes with 1011 when the controller method throws', async () => {
    await boot();
    const client = await open('/controller-throws');
    expect((await client.closed).code).toBe(1011);
  });

  it('closes with 1009 for a message over maxPayload', async () => {
    await boot();
    const client = await open('/small');
    client.send('x'.repeat(17));
    expect((await client.closed).code).toBe(1009);
  });

  it('accepts a message exactly at maxPayload', async () => {
    await boot();
    const client = await open('/small');
    client.send('x'.repeat(16));
    expect(await client.nextMessage()).toBe('x'.repeat(16));
  });

  it('closes with 1007 for invalid UTF-8 in a text message', async () => {
    await boot();
    const client = await open('/greet/echo');
    // A raw text frame whose payload is not UTF-8, sent through ws's own framing.
    (
      client.socket as unknown as { _sender: { sendFrame(list: Buffer[]): void } }
    )._sender.sendFrame([frame(0x1, Buffer.from([0xc3, 0x28]))]);
    expect((await client.closed).code).toBe(1007);
  });

  it('tracks every live handler in the registry and forgets it on close', async () => {
    await boot();
    const registry = app.get(WebSocketRegistry);
    const a = await open('/greet/echo');
    await open('/records');
    await until(() => registry.size === 2, 2000, 'two connections');
    expect(registry.byPath('/greet/echo')).toHaveLength(1);
    expect(registry.byPath('/records')).toHaveLength(1);
    const [handler] = registry.byPath('/greet/echo');
    expect(registry.get(handler.id)).toBe(handler);
    expect([...registry]).toHaveLength(2);
    await a.close();
    await until(() => registry.size === 1, 2000, 'one connection');
    expect(registry.get(handler.id)).toBeUndefined();
  });

  it('broadcasts to every connection or to one route', async () => {
    await boot();
    const registry = app.get(WebSocketRegistry);
    const echo = await open('/greet/echo');
    const records = await open('/records');
    await until(() => registry.size === 2);
    expect(registry.broadcast('all')).toBe(2);
    expect(await Promise.all([echo.nextMessage(), records.nextMessage()])).toEqual(['all', 'all']);
    expect(registry.broadcast('echo only', { path: '/greet/echo' })).toBe(1);
    expect(await echo.nextMessage()).toBe('echo only');
  });

  it('reports onClose with the peer close code and reason', async () => {
    await boot();
    closes.length = 0;
    const client = await open('/records');
    await client.close(4000, 'bye');
    await until(() => closes.length === 1);
    expect(closes[0]).toEqual({ code: 4000, reason: 'bye' });
  });

  it('leaks nothing after 10,000 open/close cycles', async () => {
    await boot();
    const registry = app.get(WebSocketRegistry);
    const server = app.getHttpServer();
    const listenersBefore = server.listenerCount('upgrade');
    for (let batch = 0; batch < 100; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, async () => (await open('/greet/echo')).close()),
      );
    }
    await until(() => registry.size === 0, 5000, 'registry empty');
    expect(registry.size).toBe(0);
    expect(server.listenerCount('upgrade')).toBe(listenersBefore);
    const connections = await new Promise<number>((resolve) =>
      server.getConnections((_: unknown, n: number) => resolve(n)),
    );
    expect(connections).toBeLessThanOrEqual(1);
  }, 120_000);
});

describe('core: bootstrap errors', () => {
  it('fails with both names when two routes share a full path', async () => {
    @Controller('dup')
    class First {
      @WebSocketRoute('x', EchoHandler)
      a() {}
    }
    @Controller()
    class Second {
      @WebSocketRoute('/dup/x/', EchoHandler)
      b() {}
    }
    await expect(
      startApp({ imports: [WsModule.forRoot()], controllers: [First, Second] }),
    ).rejects.toThrow(/"\/dup\/x".*First\.a.*Second\.b/);
  });
});

describe('core: forRootAsync', () => {
  it('takes options from a factory', async () => {
    @Controller()
    class Small {
      @WebSocketRoute('tiny', EchoHandler)
      tiny() {}
    }
    const { app } = await startApp({
      imports: [WsModule.forRootAsync({ useFactory: async () => ({ maxPayload: 4 }) })],
      controllers: [Small],
    });
    try {
      const client = await connectWebSocket(app, '/tiny');
      client.send('12345');
      expect((await client.closed).code).toBe(1009);
    } finally {
      await app.close();
    }
  });
});

/** An unmasked-by-us frame: ws's sender masks it as a client must. */
function frame(opcode: number, payload: Buffer): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
}
