import { describe, expect, it } from 'vitest';
import { WebSocketRegistry } from '../../src/index.js';
import { ADAPTERS, connect, nextMessage, until } from '../support/app.js';
import { httpExchange, RawWebSocket } from '../support/frames.js';
import { handshakeRequest, rawRequest } from '../support/raw-http.js';
import { useConformanceApp } from './conformance.app.js';

interface Rule {
  what: string;
  request: string;
  status: number;
  headers?: Record<string, RegExp>;
  /** Not an upgrade for HTTP (no `Connection: upgrade`): a plain HTTP answer, keep-alive allowed. */
  plainHttp?: boolean;
}

const get = (overrides: Record<string, string | null>) => handshakeRequest('/echo', overrides);

/** Every rule of the handshake issue (RFC 6455 4.2.1 and 4.2.2), as a raw request and its answer. */
const REJECTED: Rule[] = [
  ...['POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS'].map((method) => ({
    what: `method ${method}`,
    request: handshakeRequest('/echo', {}, `${method} /echo HTTP/1.1`),
    status: 405,
    headers: { allow: /^GET$/ },
  })),
  {
    what: 'HTTP/1.0',
    request: handshakeRequest('/echo', {}, 'GET /echo HTTP/1.0'),
    status: 400,
  },
  { what: 'no Host', request: get({ Host: null }), status: 400 },
  {
    what: 'two Host headers (RFC 7230 5.4)',
    request: get({}).replace('\r\n\r\n', '\r\nHost: example.com\r\n\r\n'),
    status: 400,
  },
  { what: 'Upgrade: h2c', request: get({ Upgrade: 'h2c' }), status: 400 },
  { what: 'Upgrade: websocket2', request: get({ Upgrade: 'websocket2' }), status: 400 },
  {
    what: 'Connection without upgrade',
    request: get({ Connection: 'keep-alive' }),
    status: 400,
    plainHttp: true,
  },
  {
    what: 'Connection: upgraded',
    request: get({ Connection: 'upgraded' }),
    status: 400,
    plainHttp: true,
  },
  ...['8', '12', '14', '13, 8', ''].map((version) => ({
    what: `Sec-WebSocket-Version "${version}"`,
    request: get({ 'Sec-WebSocket-Version': version }),
    status: 426,
    headers: { 'sec-websocket-version': /^13$/ },
  })),
  {
    what: 'no Sec-WebSocket-Version',
    request: get({ 'Sec-WebSocket-Version': null }),
    status: 426,
    headers: { 'sec-websocket-version': /^13$/ },
  },
  { what: 'no Sec-WebSocket-Key', request: get({ 'Sec-WebSocket-Key': null }), status: 400 },
  ...[
    'short',
    'dGhlIHNhbXBsZSBub25jZQ', // 16 bytes without padding
    'dGhlIHNhbXBsZSBub25jZQ==x',
    'dGhlIHNhbXBsZSBub25jZXM=', // 17 bytes
    'dGhlIHNhbXBsZSBub25j', // 15 bytes
    'dGhlIHNhbXBsZSBub25jZ!==',
    '',
  ].map((key) => ({
    what: `Sec-WebSocket-Key "${key}"`,
    request: get({ 'Sec-WebSocket-Key': key }),
    status: 400,
  })),
  ...['chat,,', 'a b', '"chat"', ',', 'chat, chat'].map((protocol) => ({
    what: `Sec-WebSocket-Protocol "${protocol}"`,
    request: get({ 'Sec-WebSocket-Protocol': protocol }),
    status: 400,
  })),
  ...['permessage-deflate;;', '=x', 'permessage-deflate; a="b', ';', 'foo bar'].map(
    (extensions) => ({
      what: `Sec-WebSocket-Extensions "${extensions}"`,
      request: get({ 'Sec-WebSocket-Extensions': extensions }),
      status: 400,
    }),
  ),
  { what: 'an unknown path', request: handshakeRequest('/nope'), status: 404 },
  {
    what: 'a plain GET (no upgrade) to a WebSocket path',
    request: 'GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    status: 426,
    headers: { upgrade: /^websocket$/i },
    plainHttp: true,
  },
];

/** Variants the RFC allows: each must be answered `101`. */
const ACCEPTED: [string, Record<string, string | null>][] = [
  ['Upgrade: WebSocket (any case)', { Upgrade: 'WebSocket' }],
  ['Connection: keep-alive, Upgrade', { Connection: 'keep-alive, Upgrade' }],
  ['Connection: upgrade (any case)', { Connection: 'upgrade' }],
  // The default origin rule (issue 13): the request's own host name, any port.
  ['an Origin header of the same host on another port', { Origin: 'http://127.0.0.1:4200' }],
  [
    'a well-formed Sec-WebSocket-Protocol the route does not speak',
    { 'Sec-WebSocket-Protocol': 'chat, superchat' },
  ],
  ['an unknown but well-formed extension', { 'Sec-WebSocket-Extensions': 'x-foo; bar=1' }],
];

describe.each(ADAPTERS)('RFC 6455 handshake conformance (%s)', (adapter) => {
  let port: number;
  let registry: WebSocketRegistry;

  useConformanceApp(adapter, (started) => ({ port, registry } = started));

  /** Whether the server still serves a normal connection (after a rejection, say). */
  async function stillServes(): Promise<boolean> {
    const client = await connect(`ws://127.0.0.1:${port}/echo`);
    client.send('still serving');
    const echoed = await nextMessage(client);
    client.terminate();
    await until(() => registry.size === 0, 3000, 'the registry to be empty');
    return echoed === 'still serving';
  }

  describe('refused upgrades: an HTTP error, a closed socket, never a 101, and the server goes on', () => {
    it.each(REJECTED.filter((rule) => !rule.plainHttp).map((rule) => [rule.what, rule] as const))(
      '%s',
      async (_what, rule) => {
        const response = await rawRequest(port, rule.request);
        expect(response.status).toBe(rule.status);
        for (const [name, pattern] of Object.entries(rule.headers ?? {}))
          expect(response.headers[name]).toMatch(pattern);
        expect(JSON.parse(response.body)).toMatchObject({ statusCode: rule.status });
        expect(response.closedByServer).toBe(true);
        expect(registry.size).toBe(0);
        expect(await stillServes()).toBe(true);
      },
    );
  });

  describe('requests HTTP does not treat as upgrades: a plain HTTP error', () => {
    it.each(REJECTED.filter((rule) => rule.plainHttp).map((rule) => [rule.what, rule] as const))(
      '%s',
      async (_what, rule) => {
        const response = await httpExchange(port, rule.request);
        expect(response.status).toBe(rule.status);
        for (const [name, pattern] of Object.entries(rule.headers ?? {}))
          expect(response.headers[name]).toMatch(pattern);
        expect(JSON.parse(response.body)).toMatchObject({ statusCode: rule.status });
        expect(await stillServes()).toBe(true);
      },
    );
  });

  describe('accepted variants', () => {
    it.each(ACCEPTED)('%s', async (_what, overrides) => {
      const client = await RawWebSocket.open(port, '/echo', overrides);
      expect(client.response.status).toBe(101);
      expect(client.response.headers['sec-websocket-accept']).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
      client.destroy();
      await until(() => registry.size === 0, 3000, 'the registry to be empty');
    });
  });
});
