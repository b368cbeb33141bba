import { Controller, Module, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { EchoHandler, WebSocketRoute, WsModule } from '../../src/index.js';
import { foreignOriginReason, originNotAllowedReason } from '../../src/handshake.messages.js';
import { ADAPTERS, connect, startApp, type AdapterName } from '../support/app.js';
import { refused } from '../support/handshake.js';

// Secure by default: a browser Origin must name the request's own host (any port), as the
// platform sees the host (trust proxy / trustProxy honoured). `allowedOrigins` replaces the rule.

@Controller()
class OriginController {
  @WebSocketRoute('default', EchoHandler)
  byDefault() {}

  @WebSocketRoute('listed', EchoHandler, { allowedOrigins: ['https://app.example.com'] })
  listed() {}

  // Written as a person might: upper case, the default port, a trailing slash.
  @WebSocketRoute('loosely-listed', EchoHandler, {
    allowedOrigins: ['https://App.Example.com:443/', 'http://localhost:5173/'],
  })
  looselyListed() {}
}

@Module({ imports: [WsModule.forRoot()], controllers: [OriginController] })
class OriginModule {}

describe.each(ADAPTERS)('origin check (%s)', (adapter) => {
  let app: INestApplication;
  let url: (path: string) => string;
  const clients: WebSocket[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await app?.close();
  });

  const boot = async (behindProxy = false) => {
    const platform: AdapterName | FastifyAdapter =
      adapter === 'fastify' && behindProxy ? new FastifyAdapter({ trustProxy: true }) : adapter;
    ({ app, url } = await startApp(
      { imports: [OriginModule] },
      adapter === 'express' && behindProxy
        ? (nest) => nest.getHttpAdapter().getInstance().set('trust proxy', 1)
        : undefined,
      platform,
    ));
  };

  const opens = async (path: string, headers: Record<string, string> = {}) => {
    const client = await connect(url(path), undefined, { headers });
    clients.push(client);
    return client.readyState === WebSocket.OPEN;
  };

  it('refuses an Origin naming another host with 403, naming the option and the origin', async () => {
    await boot();
    const refusal = await refused(url('/default'), undefined, {
      headers: { Origin: 'https://evil.example' },
    });
    expect(refusal.status).toBe(403);
    expect(refusal.closedByServer).toBe(true);
    const { message } = JSON.parse(refusal.body) as { message: string };
    expect(message).toBe(foreignOriginReason('https://evil.example', '127.0.0.1'));
    expect(message).toContain("allowedOrigins: ['https://evil.example']");
  });

  it('lets the same host on another port, and no Origin, in', async () => {
    await boot();
    expect(await opens('/default', { Origin: 'http://127.0.0.1:5173' })).toBe(true);
    expect(await opens('/default', { Origin: 'https://127.0.0.1' })).toBe(true);
    expect(await opens('/default')).toBe(true);
  });

  it('refuses "null" and a malformed Origin', async () => {
    await boot();
    for (const origin of ['null', 'not a url']) {
      const refusal = await refused(url('/default'), undefined, { headers: { Origin: origin } });
      expect(refusal.status).toBe(403);
    }
  });

  it('compares with the host as the platform sees it behind a trusted proxy (X-Forwarded-Host)', async () => {
    await boot(true);
    const viaProxy = { Origin: 'https://public.example', 'X-Forwarded-Host': 'public.example' };
    expect(await opens('/default', viaProxy)).toBe(true);
    const refusal = await refused(url('/default'), undefined, {
      headers: { Origin: 'https://public.example', 'X-Forwarded-Host': 'other.example' },
    });
    expect(refusal.status).toBe(403);
  });

  it('ignores X-Forwarded-Host when the proxy is not trusted', async () => {
    await boot(false);
    const refusal = await refused(url('/default'), undefined, {
      headers: { Origin: 'https://public.example', 'X-Forwarded-Host': 'public.example' },
    });
    expect(refusal.status).toBe(403);
  });

  it('allowedOrigins replaces the default: listed origins in, the own host out', async () => {
    await boot();
    expect(await opens('/listed', { Origin: 'https://app.example.com' })).toBe(true);
    expect(await opens('/listed')).toBe(true);
    const refusal = await refused(url('/listed'), undefined, {
      headers: { Origin: 'http://127.0.0.1:5173' },
    });
    expect(refusal.status).toBe(403);
    expect(JSON.parse(refusal.body)).toMatchObject({
      message: originNotAllowedReason('http://127.0.0.1:5173'),
    });
  });

  it('compares allowedOrigins entries as browsers send Origin: case, default port and slash do not matter', async () => {
    await boot();
    expect(await opens('/loosely-listed', { Origin: 'https://app.example.com' })).toBe(true);
    expect(await opens('/loosely-listed', { Origin: 'http://localhost:5173' })).toBe(true);
    for (const origin of [
      'https://app.example.com:8443',
      'http://app.example.com',
      'http://localhost:5174',
    ]) {
      const refusal = await refused(url('/loosely-listed'), undefined, {
        headers: { Origin: origin },
      });
      expect({ origin, status: refusal.status }).toEqual({ origin, status: 403 });
    }
  });
});
