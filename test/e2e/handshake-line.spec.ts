import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { EchoHandler } from '../../src/index.js';
import { HandshakeRejection } from '../../src/errors/handshake-rejection.js';
import { foreignOriginReason, originNotAllowedReason } from '../../src/handshake.messages.js';
import { toOriginForm } from '../../src/handshake/handshake.validator.js';
import { OriginFirstCheck } from '../../src/handshake/origin-first.js';
import { resolveOptions } from '../../src/routing/route.explorer.js';
import { Route } from '../../src/routing/route.js';
import { RouteTable } from '../../src/routing/route-table.js';
import type { WebSocketRouteOptions } from '../../src/interfaces/websocket-route-options.interface.js';

/** A route as the explorer describes it: data only. */
function route(path: string, options: WebSocketRouteOptions = {}): Route {
  return new Route({
    path,
    controller: {},
    methodName: 'opened',
    method: () => undefined,
    declaredMethod: () => undefined,
    module: {} as never,
    description: `Test.${path}`,
    handlerType: EchoHandler,
    options: resolveOptions({}, options),
  });
}

function request(url: string, headers: Record<string, string>): IncomingMessage {
  return { url, headers, rawHeaders: [] } as unknown as IncomingMessage;
}

describe('toOriginForm (RFC 7230 5.3.2)', () => {
  it.each([
    ['http://example.com/chat?room=1', '/chat?room=1'],
    ['ws://example.com:8080/a/b', '/a/b'],
    ['http://example.com', '/'],
    ['http://example.com?x=1', '/?x=1'],
    ['/already/origin-form', '/already/origin-form'],
  ])('%s -> %s', (url, expected) => {
    const incoming = request(url, {});
    toOriginForm(incoming);
    expect(incoming.url).toBe(expected);
  });
});

describe('OriginFirstCheck: the origin before the app', () => {
  const table = new RouteTable();
  const open = route('/open');
  table.add(open);
  const listed = route('/listed/:room', { allowedOrigins: ['https://app.example'] });
  table.add(listed);
  const check = new OriginFirstCheck(table, () => 'server.example');

  it('lets a same-host origin in for the route that takes the path', () => {
    expect(check.check(request('/open', { origin: 'https://server.example:8443' }))).toEqual([
      open,
    ]);
  });

  it('refuses a foreign origin with the default rule, naming the host it compared', () => {
    const refused = check.check(request('/open', { origin: 'https://evil.example' }));
    expect(refused).toBeInstanceOf(HandshakeRejection);
    expect(refused).toMatchObject({
      status: 403,
      message: foreignOriginReason('https://evil.example', 'server.example'),
    });
  });

  it("asks the route's allowedOrigins, and refuses what the list does not name", () => {
    expect(check.check(request('/listed/a', { origin: 'https://app.example' }))).toEqual([listed]);
    expect(check.check(request('/listed/a', { origin: 'https://server.example' }))).toMatchObject({
      status: 403,
      message: originNotAllowedReason('https://server.example'),
    });
  });

  it('leaves the decision to the route when the platform gives no host reader', () => {
    const later = new OriginFirstCheck(table, undefined);
    expect(later.check(request('/open', { origin: 'https://evil.example' }))).toEqual([]);
  });
});
