import { Controller } from '@nestjs/common';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WebSocketHandler, WebSocketRegistry, WebSocketRoute, WsModule } from '../../src/index.js';
import { hasFrameInternals } from '../../src/internals/ws.internals.js';
import { kSocket } from '../../src/handler/handler.symbols.js';
import { connect, messages, nextMessage, startApp, until } from '../support/app.js';
import { ROOT, startProcess, type RunningProcess } from '../support/process.js';

const FIXTURES = join(ROOT, 'test/e2e/fixtures');
const WARNING = /ws 8\.\d+\.\d+ lacks the internals/;

/** A copy of the installed `ws` with one private name renamed in every file, as a release might. */
function renamedWs(pattern: RegExp, replacement: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'renamed-ws-'));
  cpSync(join(ROOT, 'node_modules/ws'), dir, { recursive: true });
  let renamed = 0;
  for (const file of readdirSync(join(dir, 'lib'))) {
    const path = join(dir, 'lib', file);
    const source = readFileSync(path, 'utf8');
    const patched = source.replace(pattern, replacement);
    if (patched !== source) renamed++;
    writeFileSync(path, patched);
  }
  if (renamed === 0) throw new Error(`${pattern} matched nothing in ws`);
  return dir;
}

const copies: string[] = [];
let running: RunningProcess | undefined;
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  running?.child.kill('SIGTERM');
  await running?.exited;
  running = undefined;
});
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** Starts the fixture app (with `ws` replaced by `copy` when given) and connects three clients. */
async function startWithClients(copy?: string): Promise<WebSocket[]> {
  const env: Record<string, string> =
    copy === undefined
      ? {}
      : {
          WS_COPY: copy,
          NODE_OPTIONS: `--import=${pathToFileURL(join(FIXTURES, 'renamed-ws.mjs')).href}`,
        };
  running = await startProcess(
    join(FIXTURES, 'fan-out-app.mjs'),
    env,
    /Listening on http:\/\/127\.0\.0\.1:(\d+)/,
  );
  const port = running.output().match(/Listening on http:\/\/127\.0\.0\.1:(\d+)/)![1];
  for (let i = 0; i < 3; i++) {
    // Listening before the handshake ends: 'ready' may come in the same packet as the 101.
    const client = new WebSocket(`ws://127.0.0.1:${port}/news`);
    clients.push(client);
    expect(await nextMessage(client)).toBe('ready');
  }
  return clients;
}

async function expectEveryClientGets(sockets: WebSocket[], command: string, text: string) {
  const received = sockets.map((socket) => messages(socket, 1));
  sockets[0]!.send(`${command} ${text}`);
  for (const got of await Promise.all(received)) expect(got).toEqual([text]);
}

describe('ws internals fallback', () => {
  it.each([
    ['Sender.frame', /(Sender\.|static )frame\(/g, '$1encodeFrame('],
    ['_sender._state', /\b_state\b/g, '_phase'],
    ['_extensions', /\b_extensions\b/g, '_negotiated'],
  ])(
    'with ws %s renamed, broadcast() and publish() reach every client and one warning names ws',
    async (_name, pattern, replacement) => {
      const copy = renamedWs(pattern, replacement);
      copies.push(copy);
      const sockets = await startWithClients(copy);
      await expectEveryClientGets(sockets, 'broadcast', 'one');
      await expectEveryClientGets(sockets, 'publish', 'two');
      await expectEveryClientGets(sockets, 'broadcast', 'three');
      expect(running!.output().match(new RegExp(WARNING, 'g'))).toHaveLength(1);
    },
    20_000,
  );

  it('with the installed ws, the same app delivers without the warning', async () => {
    const sockets = await startWithClients();
    await expectEveryClientGets(sockets, 'broadcast', 'one');
    await expectEveryClientGets(sockets, 'publish', 'two');
    expect(running!.output()).not.toMatch(WARNING);
  }, 20_000);
});

class IdleHandler extends WebSocketHandler {}

@Controller()
class IdleController {
  @WebSocketRoute('idle', IdleHandler)
  idle() {}
}

describe('ws internals check', () => {
  it('passes on a server-side socket of the installed ws', async () => {
    const { app, url } = await startApp({
      imports: [WsModule.forRoot()],
      controllers: [IdleController],
    });
    try {
      const client = await connect(url('/idle'));
      const registry = app.get(WebSocketRegistry);
      await until(() => registry.size === 1);
      const [handler] = registry.byPath('/idle');
      expect(hasFrameInternals(handler![kSocket])).toBe(true);
      client.terminate();
    } finally {
      await app.close();
    }
  });
});
