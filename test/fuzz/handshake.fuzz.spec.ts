import * as fc from 'fast-check';
import { connect as netConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocketRegistry } from '../../src/index.js';
import { useConformanceApp } from '../conformance/conformance.app.js';
import { ADAPTERS, connect, nextMessage, until, type AdapterName } from '../support/app.js';
import { VALID_KEY } from '../support/raw-http.js';
import { FUZZ_SEED, fuzzRuns, fuzzTimeout, watchProcessErrors } from './fuzz.settings.js';

/** How long the server may take to answer (or close) before the request counts as a hang. */
const ANSWER_BOUND_MS = 2000;
const RUNS = fuzzRuns(60);

type Header = [name: string, value: string];
interface GeneratedRequest {
  method: string;
  path: string;
  version: string;
  headers: Header[];
  /** Raw lines that are not `name: value` headers (mangled). */
  mangled: string[];
}

// Each pool lists values whose validity the RFC decides (see `verdict` below).
const METHODS = ['GET', 'GET', 'GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'get'];
const VERSIONS = [
  'HTTP/1.1',
  'HTTP/1.1',
  'HTTP/1.1',
  'HTTP/1.0',
  'HTTP/0.9',
  'HTTP/2.0',
  'HTTP/1.2',
];
const VALID_PATHS = ['/echo', '/echo/', '/echo?x=1', '/small', '/deflate?a=b&c'];
const INVALID_PATHS = ['/nope', '/echo/extra', '/', '/echoo', '/ech'];
const VALUES: Record<string, string[]> = {
  Host: ['127.0.0.1', 'example.com', 'localhost:3000'],
  Upgrade: ['websocket', 'WebSocket', 'h2c', 'websocket2', '', 'foo, websocket', 'web socket'],
  Connection: ['Upgrade', 'upgrade', 'keep-alive, Upgrade', 'keep-alive', 'close', '', 'upgraded'],
  'Sec-WebSocket-Key': [
    VALID_KEY,
    'AQIDBAUGBwgJCgsMDQ4PEA==',
    'short',
    'dGhlIHNhbXBsZSBub25jZQ',
    'dGhlIHNhbXBsZSBub25jZXM=',
    '',
    '!!!!!!!!!!!!!!!!!!!!!!==',
  ],
  'Sec-WebSocket-Version': ['13', '13', '8', '12', '14', '', '13, 8', 'thirteen'],
  'Sec-WebSocket-Protocol': ['chat', 'chat, superchat', 'a,,b', 'a b', '"chat"', ',', ''],
  'Sec-WebSocket-Extensions': [
    'permessage-deflate',
    'permessage-deflate; client_max_window_bits',
    'x-foo; bar=1',
    'permessage-deflate;;',
    '=x',
    'foo bar',
    ';',
  ],
  Origin: ['https://example.com', 'null', 'http://127.0.0.1:4200'],
  'X-Junk': ['1', 'a'.repeat(200), '\t spaced \t'],
};
const MANGLED_LINES = [
  'Bad Header: x',
  'NoColonHere',
  ': empty-name',
  'X-Ctl: a\x01b',
  'X-Bare-CR: a\rb',
];

const BASE: Header[] = [
  ['Host', '127.0.0.1'],
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', VALID_KEY],
  ['Sec-WebSocket-Version', '13'],
];

const headerName = fc.constantFrom(...Object.keys(VALUES));
const mutation = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), name: headerName }),
  fc.record({ op: fc.constant('duplicate' as const), name: headerName, pick: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), name: headerName, pick: fc.nat() }),
  fc.record({ op: fc.constant('add' as const), name: headerName, pick: fc.nat() }),
  fc.record({
    op: fc.constant('oversize' as const),
    size: fc.integer({ min: 17_000, max: 40_000 }),
  }),
  fc.record({ op: fc.constant('mangle' as const), line: fc.constantFrom(...MANGLED_LINES) }),
  fc.record({ op: fc.constant('case' as const), index: fc.nat() }),
);

const requestArbitrary: fc.Arbitrary<GeneratedRequest> = fc
  .record({
    method: fc.constantFrom(...METHODS),
    version: fc.constantFrom(...VERSIONS),
    path: fc.constantFrom(...VALID_PATHS, ...VALID_PATHS, ...INVALID_PATHS),
    mutations: fc.array(mutation, { maxLength: 4 }),
  })
  .map(({ method, version, path, mutations }) => {
    let headers = BASE.map(([n, v]) => [n, v] as Header);
    const mangled: string[] = [];
    for (const m of mutations) {
      const pool = 'name' in m ? VALUES[m.name] : [];
      const value = 'pick' in m ? pool[m.pick % pool.length] : '';
      if (m.op === 'drop') headers = headers.filter(([n]) => n !== m.name);
      else if (m.op === 'duplicate' || m.op === 'add') headers.push([m.name, value]);
      else if (m.op === 'replace') {
        headers = headers.filter(([n]) => n !== m.name);
        headers.push([m.name, value]);
      } else if (m.op === 'oversize') headers.push(['X-Oversized', 'x'.repeat(m.size)]);
      else if (m.op === 'mangle') mangled.push(m.line);
      else if (headers.length > 0) {
        // Header names are case-insensitive: this never changes validity.
        const header = headers[m.index % headers.length];
        header[0] = header[0].toUpperCase();
      }
    }
    return { method, version, path, headers, mangled };
  });

function serialize(request: GeneratedRequest): string {
  let text = `${request.method} ${request.path} ${request.version}\r\n`;
  for (const [name, value] of request.headers) text += `${name}: ${value}\r\n`;
  for (const line of request.mangled) text += line + '\r\n';
  return text + '\r\n';
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALID_EXTENSIONS = new Set(VALUES['Sec-WebSocket-Extensions'].slice(0, 3));

/**
 * The test's own reading of RFC 6455 4.2.1 (and RFC 7230 where it decides), independent of the
 * library: `valid` must get a 101, `invalid` must never get one, `unspecified` is only checked for
 * an answer within the bound (HTTP versions the RFC allows but Node may refuse, say).
 */
function verdict(
  request: GeneratedRequest,
  adapter: AdapterName,
): 'valid' | 'invalid' | 'unspecified' {
  const all = (name: string) =>
    request.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  const tokens = (name: string) =>
    all(name)
      .join(',')
      .split(',')
      .map((t) => t.trim().toLowerCase());
  if (request.mangled.length > 0) return 'invalid'; // not HTTP: the parser must refuse it
  if (serialize(request).length > 16 * 1024) return 'invalid'; // over Node's header limit: 431
  if (request.method !== 'GET') return 'invalid';
  if (request.version === 'HTTP/1.0' || request.version === 'HTTP/0.9') return 'invalid';
  if (INVALID_PATHS.includes(request.path)) return 'invalid';
  // The platform's router decides, as for a GET: Fastify tells `/echo/` from `/echo`, Express does not.
  if (adapter === 'fastify' && request.path === '/echo/') return 'invalid';
  if (all('Host').length !== 1) return 'invalid'; // RFC 7230 5.4: none or several is a 400
  if (!sameHostOrigin(all('Origin'), all('Host')[0])) return 'invalid'; // the default origin rule: 403
  // RFC 6455 asks for an Upgrade "containing the value websocket"; the library (like `ws`) takes
  // exactly that one token and answers 400 to a list.
  const upgrade = tokens('Upgrade');
  if (upgrade.length !== 1 || upgrade[0] !== 'websocket') return 'invalid';
  if (!tokens('Connection').includes('upgrade')) return 'invalid';
  const versions = all('Sec-WebSocket-Version');
  if (versions.length !== 1 || versions[0].trim() !== '13') return 'invalid';
  const keys = all('Sec-WebSocket-Key');
  if (keys.length !== 1) return 'invalid';
  const key = keys[0].trim();
  const nonce = Buffer.from(key, 'base64');
  if (nonce.length !== 16 || nonce.toString('base64') !== key) return 'invalid';
  const protocols = all('Sec-WebSocket-Protocol');
  if (protocols.length > 0) {
    const offered = protocols
      .join(',')
      .split(',')
      .map((p) => p.trim());
    if (!offered.every((p) => TOKEN.test(p))) return 'invalid';
    if (new Set(offered).size !== offered.length) return 'unspecified'; // repeated offers: the RFC is silent
  }
  if (!all('Sec-WebSocket-Extensions').every((e) => VALID_EXTENSIONS.has(e))) return 'invalid';
  if (request.version !== 'HTTP/1.1') return 'unspecified';
  return 'valid';
}

/** No `Origin`, or one whose host name is the `Host` header's (any port). */
function sameHostOrigin(origins: string[], host: string): boolean {
  if (origins.length === 0) return true;
  if (origins.length > 1) return false; // Node joins them with ", ": no origin at all
  let originHost: string;
  try {
    originHost = new URL(origins[0].trim()).hostname;
  } catch {
    return false; // "null"
  }
  return originHost === host.trim().split(':')[0].toLowerCase();
}

/**
 * Writes `request` on a fresh connection; resolves with the status line's code once a response head
 * arrived, 0 if the server closed without answering, or null if neither happened within the bound.
 */
function exchange(port: number, request: string): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    let received = '';
    const finish = (status: number | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => finish(null), ANSWER_BOUND_MS);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n')) finish(Number(received.split(' ')[1]));
    });
    socket.on('close', () => finish(received ? Number(received.split(' ')[1]) : 0));
    socket.write(request);
  });
}

describe.each(ADAPTERS)('handshake fuzzing (%s)', (adapter) => {
  let port: number;
  let registry: WebSocketRegistry;

  useConformanceApp(adapter, (started) => ({ port, registry } = started));

  it(
    `never answers 101 to an invalid request, answers within ${ANSWER_BOUND_MS} ms, and keeps serving (seed ${FUZZ_SEED}, ${RUNS} runs)`,
    async () => {
      console.log(`handshake fuzzing (${adapter}): seed ${FUZZ_SEED}, ${RUNS} runs`);
      const watch = watchProcessErrors();
      const seen = { valid: 0, invalid: 0, unspecified: 0 };
      try {
        await fc.assert(
          fc.asyncProperty(requestArbitrary, async (request) => {
            const expected = verdict(request, adapter);
            seen[expected]++;
            const status = await exchange(port, serialize(request));
            expect(status, 'answered or closed within the bound').not.toBeNull();
            // Invalid: never a 101. Valid: a 101. Unspecified: any answer.
            const agrees =
              expected === 'unspecified' || (status === 101) === (expected === 'valid');
            expect(agrees, `${expected} request answered ${status}`).toBe(true);
            expect(watch.errors).toEqual([]);
          }),
          { numRuns: RUNS, seed: FUZZ_SEED, endOnFailure: true },
        );
      } finally {
        watch.stop();
      }
      // The generator reached both sides of the oracle.
      expect(seen.valid).toBeGreaterThan(0);
      expect(seen.invalid).toBeGreaterThan(0);
      // Still serving, and every accepted connection that the fuzzer dropped was freed.
      const client = await connect(`ws://127.0.0.1:${port}/echo`);
      client.send('after fuzzing');
      expect(await nextMessage(client)).toBe('after fuzzing');
      client.terminate();
      await until(() => registry.size === 0, 5000, 'the registry to be empty');
    },
    fuzzTimeout(RUNS, 100),
  );
});
