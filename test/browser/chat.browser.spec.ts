/// <reference lib="dom" />
import { mkdirSync, mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startProcess, type RunningProcess } from '../support/process.js';

/** Debian's Chromium, driven by playwright-core (no browser download); CHROMIUM_PATH overrides it. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const INSTALL = 'apt-get install chromium';
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const available = existsSync(CHROMIUM);
// Locally a missing Chromium skips these tests (the name says how to install it); in CI it fails them.
const skip = !available && process.env.CI !== 'true';
if (skip)
  console.warn(`Skipping the browser tests: no Chromium at ${CHROMIUM}. Install it: ${INSTALL}`);
const ARTIFACTS = join(ROOT, 'test/artifacts');

function startSample(port = 0) {
  return startProcess(
    'dist/sample/main.js',
    { PORT: String(port), HOST: '127.0.0.1' },
    /Listening on http:\/\/[^:]+:(\d+)/,
  );
}

/** Waits for a notice (join, leave, connection state) in the page's log. */
function notice(page: Page, text: string) {
  return page.locator('#log .notice', { hasText: text }).waitFor();
}

async function say(page: Page, text: string) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

/** The names in the page's member list, as shown (sorted). */
function members(page: Page) {
  return page.locator('#members li .name').allTextContents();
}

describe.skipIf(skip)(
  `chat page in Chromium${available ? '' : ` (no ${CHROMIUM}: ${INSTALL})`}`,
  () => {
    let sample: RunningProcess;
    let port: number;
    let context: BrowserContext;
    let userDataDir: string;

    beforeAll(async () => {
      if (!available) throw new Error(`Chromium is missing at ${CHROMIUM}; install it: ${INSTALL}`);
      const started = await startSample();
      sample = started;
      port = Number(started.match[1]);
      userDataDir = mkdtempSync(join(tmpdir(), 'chat-browser-'));
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_FLAGS,
        viewport: { width: 1000, height: 640 },
        deviceScaleFactor: 1,
      });
    });

    afterAll(async () => {
      await context?.close();
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
      sample?.child.kill('SIGTERM');
      await sample?.exited;
    });

    async function openChat(name: string, room: string): Promise<Page> {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.fill('#name', name);
      await page.fill('#room', room);
      await page.click('#join button[type=submit]');
      await page.locator('#status[data-state=online]').waitFor();
      await notice(page, `You joined #${room} as ${name}`);
      return page;
    }

    it('two pages in one room: members, join and leave notices, messages both ways, a screenshot', async () => {
      const ada = await openChat('Ada', 'tour');
      const grace = await openChat('Grace', 'tour');
      await notice(ada, 'Grace joined');
      expect(await members(ada)).toEqual(['Ada', 'Grace']);
      expect(await members(grace)).toEqual(['Ada', 'Grace']);
      expect(await ada.locator('#member-count').textContent()).toBe('2');

      await say(ada, 'Hi Grace! Did the handshake go through?');
      await say(grace, 'It did: chat.v1, one topic per room.');
      await say(ada, 'And the rate limit keeps the room calm.');
      const lastFromAda = grace.locator('#log .message', {
        hasText: 'And the rate limit keeps the room calm.',
      });
      await lastFromAda.waitFor();
      expect(await lastFromAda.locator('.meta').textContent()).toContain('Ada');
      const fromGrace = ada.locator('#log .message', { hasText: 'It did: chat.v1' });
      await fromGrace.waitFor();
      expect(await fromGrace.getAttribute('class')).toBe('message');
      // The sender sees its own message as "mine", confirmed by the server.
      expect(await ada.locator('#log .message.mine', { hasText: 'Hi Grace!' }).count()).toBe(1);
      mkdirSync(ARTIFACTS, { recursive: true });
      await ada.screenshot({ path: join(ARTIFACTS, 'chat.png') });

      // Text is text: markup from a peer is shown, never rendered as HTML.
      await say(grace, '<b>bold?</b>');
      const markup = ada.locator('#log .message', { hasText: '<b>bold?</b>' });
      await markup.waitFor();
      expect(await markup.locator('b').count()).toBe(0);

      await grace.click('#leave');
      await notice(ada, 'Grace left');
      expect(await members(ada)).toEqual(['Ada']);
      await grace.close();
      await ada.close();
    });

    it('a page that was offline gets every message it missed, once, in order, when it comes back', async () => {
      const ada = await openChat('Ada', 'offline');
      // Ada's connections go through a route the test can cut: "offline" closes the socket, and
      // holds the ones the page opens meanwhile (open, but reaching nobody) until "online".
      let online = true;
      const cuts: (() => void)[] = [];
      await ada.routeWebSocket(/\/chat\?/, (route) => {
        if (!online) {
          cuts.push(() => route.close({ code: 4000, reason: 'offline' }));
          return;
        }
        const server = route.connectToServer();
        cuts.push(() => {
          route.close({ code: 4000, reason: 'offline' });
          server.close();
        });
      });
      await ada.reload();
      await ada.fill('#name', 'Ada');
      await ada.fill('#room', 'offline');
      await ada.click('#join button[type=submit]');
      await notice(ada, 'You joined #offline as Ada');
      const grace = await openChat('Grace', 'offline');
      await say(grace, 'before the tunnel');
      await ada.locator('#log .message', { hasText: 'before the tunnel' }).waitFor();

      online = false;
      for (const cut of cuts.splice(0)) cut();
      await notice(ada, 'Disconnected (closed 4000 offline)');
      const missed = ['in the tunnel 1', 'in the tunnel 2', 'in the tunnel 3'];
      for (const text of missed) await say(grace, text);
      await grace.locator('#log .message.mine', { hasText: missed[2] }).waitFor();

      online = true;
      for (const cut of cuts.splice(0)) cut();
      await notice(ada, 'Reconnected');
      // Missed: Grace's three messages (joins and leaves come from presence, not the room's history).
      await notice(ada, '3 missed message(s) delivered');
      const texts = await ada.locator('#log .message .bubble').allTextContents();
      const said = ['before the tunnel', ...missed].map(
        (text) => texts.filter((bubble) => bubble.endsWith(text)).length,
      );
      expect(said).toEqual([1, 1, 1, 1]);
      const order = missed.map((text) => texts.findIndex((bubble) => bubble.endsWith(text)));
      expect(order).toEqual(order.toSorted((a, b) => a - b));
      expect(await ada.locator('#log .notice.gap').count()).toBe(0);
      await say(grace, 'welcome back');
      await ada.locator('#log .message', { hasText: 'welcome back' }).waitFor();
      await grace.close();
      await ada.close();
    });

    it("the library's close codes: after 3000 (lost continuity) the page reconnects without resuming and marks a hole, after 3500 it stays away", async () => {
      const ada = await openChat('Ada', 'codes');
      // Ada's connections go through a route the test closes with the code it wants.
      const routes: { close: (options: { code: number; reason: string }) => void }[] = [];
      await ada.routeWebSocket(/\/chat\?/, (route) => {
        const server = route.connectToServer();
        routes.push({
          close: (options) => {
            route.close(options);
            server.close();
          },
        });
      });
      await ada.reload();
      await ada.fill('#name', 'Ada');
      await ada.fill('#room', 'codes');
      await ada.click('#join button[type=submit]');
      await notice(ada, 'You joined #codes as Ada');
      const grace = await openChat('Grace', 'codes');
      await say(grace, 'first');
      await ada.locator('#log .message', { hasText: 'first' }).waitFor();

      // 3000: reconnect without the room's position (what the library sends a handler without
      // onContinuityLost() when its topic's history lost continuity): the page marks a hole.
      routes.at(-1)!.close({ code: 3000, reason: 'lost continuity' });
      await notice(ada, 'Disconnected (closed 3000 lost continuity)');
      await ada
        .locator('#log .notice.gap', { hasText: 'Some messages may be missing (lost continuity)' })
        .waitFor();
      await notice(ada, 'Reconnected');
      await say(grace, 'after 3000');
      await ada.locator('#log .message', { hasText: 'after 3000' }).waitFor();

      // 3500-3999: do not reconnect.
      routes.at(-1)!.close({ code: 3500, reason: 'go away' });
      await notice(ada, 'Disconnected (closed 3500 go away)');
      await ada.locator('#status[data-state=idle]').waitFor();
      await ada.waitForTimeout(1500); // longer than the first reconnect delay
      expect(await ada.locator('#status').getAttribute('data-state')).toBe('idle');
      // The page's connections: the one after the reload, the one after 3000, none after 3500.
      expect(routes).toHaveLength(2);
      await grace.close();
      await ada.close();
    });

    it('after a close that says "do not reconnect" (1008, flooding) the page stays away', async () => {
      const ada = await openChat('Ada', 'flood');
      // 40 messages at once through the page's own form: past the sample's rate limit.
      await ada.evaluate(() => {
        const text = document.getElementById('text') as HTMLInputElement;
        const form = document.getElementById('say') as HTMLFormElement;
        for (let i = 0; i < 40; i++) {
          text.value = `flood ${i}`;
          form.requestSubmit();
        }
      });
      await notice(ada, 'Disconnected (closed 1008 rate limit exceeded)');
      await ada.locator('#status[data-state=idle]').waitFor();
      // Longer than the first reconnect delay (0.5 s +- 25 %): still not connected.
      await ada.waitForTimeout(1500);
      expect(await ada.locator('#status').getAttribute('data-state')).toBe('idle');
      expect(await ada.locator('#status-text').textContent()).toContain('join again');
      await ada.close();
    });

    it('shows the connection state and reconnects with backoff after the server restarts', async () => {
      const ada = await openChat('Ada', 'restart');
      sample.child.kill('SIGTERM');
      await sample.exited;
      await notice(ada, 'Disconnected (closed 1001 server shutting down)');
      await ada.locator('#status[data-state=reconnecting]').waitFor();
      expect(await ada.locator('#text').isDisabled()).toBe(true);

      sample = await startSample(port);
      await ada.locator('#status[data-state=online]').waitFor({ timeout: 15_000 });
      await notice(ada, 'Reconnected');
      // The restarted server kept no history (in memory): the page says its log may have a hole.
      await ada
        .locator('#log .notice.gap', { hasText: 'Some messages may be missing (epoch)' })
        .waitFor();
      expect(await members(ada)).toEqual(['Ada']);
      await say(ada, 'back again');
      await ada.locator('#log .message.mine', { hasText: 'back again' }).waitFor();
      await ada.close();
    });
  },
);
