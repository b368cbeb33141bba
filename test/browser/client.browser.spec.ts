/// <reference lib="dom" />
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { WebSocketConstructor } from '../../src/client/index.js';
import { freePort } from '../support/redis.js';
import { startProcess, type RunningProcess } from '../support/process.js';

// The browser's own WebSocket class is what the client takes (checked by tsc with the DOM's types).
const browserWebSocket: WebSocketConstructor | undefined = globalThis.WebSocket as
  typeof WebSocket | undefined;
void browserWebSocket;

/** What the tests' scripts find on the page's `window`. */
interface Browser {
  ReconnectingWebSocket: new (
    url: string,
    options: object,
  ) => {
    state: string;
    close(): void;
    addEventListener(type: string, listener: (event: never) => void): void;
  };
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const skip = !available && process.env.CI !== 'true';

/**
 * `nestjs-ws-routes/client` in Chromium, as the sample serves it (`/lib/client/index.js`): what a
 * browser sees that Node's `ws` does not (a refused handshake is only a close before `open`; the
 * `online` event).
 */
describe.skipIf(skip)('ReconnectingWebSocket in Chromium', () => {
  let sample: RunningProcess;
  let port: number;
  let context: BrowserContext;
  let userDataDir: string;
  let page: Page;

  beforeAll(async () => {
    const started = await startProcess(
      'dist/sample/main.js',
      { PORT: '0', HOST: '127.0.0.1' },
      /Listening on http:\/\/[^:]+:(\d+)/,
    );
    sample = started;
    port = Number(started.match[1]);
    userDataDir = mkdtempSync(join(tmpdir(), 'client-browser-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic'],
    });
    page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    // The client module, as the chat page imports it, on `window` for the tests' scripts.
    await page.addScriptTag({
      type: 'module',
      content:
        "import { ReconnectingWebSocket } from '/lib/client/index.js'; window.ReconnectingWebSocket = ReconnectingWebSocket;",
    });
    await page.waitForFunction(() => 'ReconnectingWebSocket' in window);
  });

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    sample?.child.kill('SIGTERM');
    await sample?.exited;
  });

  it('a refused handshake (the guarded /secure/echo, 401): stops after maxRefused closes before open over refusedForMs', async () => {
    const result = await page.evaluate(async () => {
      const { ReconnectingWebSocket } = window as unknown as Browser;
      const started = Date.now();
      const client = new ReconnectingWebSocket('/secure/echo', {
        maxRefused: 3,
        refusedForMs: 400,
        backoff: { firstDelayMs: 50, maxDelayMs: 100 },
      });
      const attempts: number[] = [];
      client.addEventListener('reconnecting', (event: { attempt: number }) =>
        attempts.push(event.attempt),
      );
      const close = await new Promise<{ code: number; cause: string }>((resolve) =>
        client.addEventListener('close', resolve),
      );
      const tookMs = Date.now() - started;
      return { attempts, tookMs, code: close.code, cause: close.cause, state: client.state };
    });
    expect(result).toMatchObject({ code: 1006, cause: 'refused', state: 'closed' });
    // Three closes before open were not enough: they had to go on for 400 ms.
    expect(result.attempts.length).toBeGreaterThan(2);
    expect(result.tookMs).toBeGreaterThanOrEqual(400);
  });

  it('with the default maxRefused, a server down for 12+ short attempts (a restart) is waited for', async () => {
    const later = await freePort();
    await page.evaluate(async (url) => {
      const { ReconnectingWebSocket } = window as unknown as Browser;
      const client = new ReconnectingWebSocket(url, {
        backoff: { firstDelayMs: 50, maxDelayMs: 100 },
      });
      const seen: string[] = [];
      client.addEventListener('reconnecting', () => seen.push('reconnecting'));
      client.addEventListener('open', () => seen.push('open'));
      client.addEventListener('close', () => seen.push('close'));
      Object.assign(window, { restarting: client, seen });
    }, `ws://127.0.0.1:${later}/`);
    const seen = () => page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    await page.waitForFunction(
      () => (window as unknown as { seen: string[] }).seen.length >= 12, // 10 used to stop it
      undefined,
      // Chromium spaces out failed WebSocket connections to one host by itself: bounds for a busy machine
      { timeout: 45_000 },
    );
    const server = new WebSocketServer({ host: '127.0.0.1', port: later }); // the server is back
    try {
      await page.waitForFunction(() =>
        (window as unknown as { seen: string[] }).seen.includes('open'),
      );
      expect((await seen()).filter((event) => event !== 'reconnecting')).toEqual(['open']);
    } finally {
      await page.evaluate(() =>
        (window as unknown as { restarting: { close(): void } }).restarting.close(),
      );
      await new Promise((resolve) => server.close(resolve));
    }
  }, 60_000);

  it('tries at once when the browser comes back online, whatever the delay it was waiting', async () => {
    const nobody = await freePort();
    await page.evaluate(async (url) => {
      const { ReconnectingWebSocket } = window as unknown as Browser;
      const client = new ReconnectingWebSocket(url, {
        maxRefused: Infinity,
        backoff: { firstDelayMs: 600_000, maxDelayMs: 600_000 },
      });
      const attempts: number[] = [];
      client.addEventListener('reconnecting', (event: { attempt: number }) =>
        attempts.push(event.attempt),
      );
      Object.assign(window, { waiting: client, attempts });
    }, `ws://127.0.0.1:${nobody}/`);
    await page.waitForFunction(
      () => (window as unknown as { attempts: number[] }).attempts.length === 1,
    );
    await context.setOffline(true);
    await context.setOffline(false); // fires `online`
    await page.waitForFunction(
      () => (window as unknown as { attempts: number[] }).attempts.length === 2,
      undefined,
      { timeout: 5000 },
    );
    const state = await page.evaluate(() => {
      const client = (window as unknown as { waiting: { state: string; close(): void } }).waiting;
      const before = client.state;
      client.close();
      return [before, client.state];
    });
    expect(state).toEqual(['reconnecting', 'closed']);
  });
});
