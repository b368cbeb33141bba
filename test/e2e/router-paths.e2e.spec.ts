import {
  Controller,
  Get,
  Module,
  Param,
  Version,
  VersioningType,
  type INestApplication,
} from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { WebSocketGateway } from '@nestjs/websockets';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WebSocketHandler, WebSocketRoute, WsModule } from '../../src/index.js';
import { ADAPTERS, startApp, type AdapterName } from '../support/app.js';
import { openWithGreeting, refused } from '../support/handshake.js';

// The platform's router decides the path of a WebSocket route, as for a GET route at the same
// place: Nest 12 path syntax, host-bound controllers, non-URI versioning.

/** Greets with the route it was matched on and its parameters. */
class WhereHandler extends WebSocketHandler {
  override onOpen() {
    this.send(JSON.stringify({ path: this.path, params: this.params, by: this.constructor.name }));
  }
}
class V1Handler extends WhereHandler {}
class V2Handler extends WhereHandler {}
class ApiHostHandler extends WhereHandler {}

/** Nest 12 path syntax for a wildcard: `*splat` on Express; the Fastify adapter takes `*`. */
const WILDCARD: Record<AdapterName, string> = { express: '*splat', fastify: '*' };

function filesController(wildcard: string) {
  @Controller('files')
  class FilesController {
    @WebSocketRoute(wildcard, WhereHandler)
    splat() {}

    @Get(wildcard)
    http() {
      return { from: 'http' };
    }
  }
  return FilesController;
}

@Controller('docs')
class DocsController {
  @WebSocketRoute('ws/guide{/:lang}', WhereHandler)
  guide() {}

  @Get('http/guide{/:lang}')
  httpGuide(@Param('lang') lang?: string) {
    return { lang: lang ?? null };
  }
}

@Controller({ path: 'tenant', host: 'api.example.test' })
class ApiHostController {
  @WebSocketRoute('ws', ApiHostHandler)
  ws() {}
}

@Controller('versioned')
class VersionedController {
  @Version('1')
  @WebSocketRoute('ws', V1Handler)
  v1() {}

  @Version('2')
  @WebSocketRoute('ws', V2Handler)
  v2() {}
}

@WebSocketGateway({ path: '/gateway' })
class Gateway {}

function pathsModule(adapter: AdapterName, providers: object[] = []) {
  @Module({
    imports: [WsModule.forRoot()],
    controllers: [
      filesController(WILDCARD[adapter]),
      DocsController,
      ApiHostController,
      VersionedController,
    ],
    providers: providers as never[],
  })
  class PathsModule {}
  return PathsModule;
}

describe.each(ADAPTERS)('the platform router decides the path (%s)', (adapter) => {
  let app: INestApplication;
  let port: number;
  let url: (path: string) => string;
  const clients: WebSocket[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await app?.close();
  });

  const boot = async () => {
    ({ app, port, url } = await startApp(
      { imports: [pathsModule(adapter)] },
      (nest) => nest.enableVersioning({ type: VersioningType.HEADER, header: 'X-Api-Version' }),
      adapter,
    ));
  };

  const greet = async (path: string, headers?: Record<string, string>) => {
    const { client, greeting } = await openWithGreeting(url(path), undefined, { headers });
    clients.push(client);
    return JSON.parse(String(greeting)) as { params: Record<string, unknown>; by: string };
  };

  it('a *splat route takes every depth below it; a plain GET there is the HTTP route', async () => {
    await boot();
    const { params } = await greet('/files/a/b/c.txt');
    // each platform's own shape of the wildcard's value
    const wildcard = adapter === 'express' ? params.splat : params['*'];
    expect(wildcard).toEqual(adapter === 'express' ? ['a', 'b', 'c.txt'] : 'a/b/c.txt');
    const http = await fetch(`http://127.0.0.1:${port}/files/a/b`);
    expect(await http.json()).toEqual({ from: 'http' });
  });

  it('an optional {segment} matches exactly where a GET with that path matches', async () => {
    await boot();
    for (const suffix of ['', '/fr']) {
      const http = await fetch(`http://127.0.0.1:${port}/docs/http/guide${suffix}`);
      const httpOutcome =
        http.status === 200
          ? { lang: ((await http.json()) as { lang: string | null }).lang }
          : { status: http.status };
      const wsOutcome = await greet(`/docs/ws/guide${suffix}`).then(
        ({ params }) => ({ lang: (params.lang as string | undefined) ?? null }),
        async () => ({ status: (await refused(url(`/docs/ws/guide${suffix}`))).status }),
      );
      expect(wsOutcome).toEqual(httpOutcome);
    }
    // Express matches both; @nestjs/platform-fastify 12 matches neither, for a GET as for this route
  });

  it('a host-bound controller serves its host only, as its GET routes', async () => {
    await boot();
    expect((await greet('/tenant/ws', { Host: 'api.example.test' })).by).toBe('ApiHostHandler');
    expect((await refused(url('/tenant/ws'))).status).toBe(404);
  });

  it('header versioning picks the route of the version asked for; an unknown one is 404', async () => {
    await boot();
    expect((await greet('/versioned/ws', { 'X-Api-Version': '1' })).by).toBe('V1Handler');
    expect((await greet('/versioned/ws', { 'X-Api-Version': '2' })).by).toBe('V2Handler');
    const refusal = await refused(url('/versioned/ws'), undefined, {
      headers: { 'X-Api-Version': '3' },
    });
    expect(refusal.status).toBe(404);
  });

  it('with a @nestjs/websockets gateway on the same server, every path the router takes stays ours', async () => {
    // WsAdapter destroys every upgrade whose path it does not own: a path our own table does not
    // know (a splat, an optional segment, another case on Express) must still reach the platform.
    ({ app, port, url } = await startApp(
      { imports: [pathsModule(adapter, [Gateway])] },
      (nest) => {
        nest.enableVersioning({ type: VersioningType.HEADER, header: 'X-Api-Version' });
        nest.useWebSocketAdapter(new WsAdapter(nest));
      },
      adapter,
    ));
    const { params } = await greet('/files/a/b/c.txt');
    expect(adapter === 'express' ? params.splat : params['*']).toEqual(
      adapter === 'express' ? ['a', 'b', 'c.txt'] : 'a/b/c.txt',
    );
    // Express also takes an optional segment and another case (its GET routes do); Fastify neither
    const alsoOurs = adapter === 'express' ? ['/docs/ws/guide/fr', '/FILES/x'] : [];
    for (const path of alsoOurs) expect((await greet(path)).by).toBe('WhereHandler');
  });
});
