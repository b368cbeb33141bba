import { afterAll, beforeAll } from 'vitest';
import { WebSocket } from 'ws';
import {
  ReconnectingWebSocket,
  type ReconnectingWebSocketEventMap,
  type ReconnectingWebSocketOptions,
  type UrlSource,
} from '../../src/client/index.js';
import { startProcess, type RunningProcess } from '../support/process.js';

const APP = 'test/client/client.app.mjs';
const LISTENING = /Listening on http:\/\/127\.0\.0\.1:(\d+)/;

/** The client tests' app (client.app.mjs) as its own process, with its `ws://` base URL. */
export async function startClientApp(env: Record<string, string> = {}) {
  const started = await startProcess(APP, env, LISTENING, 30_000);
  return {
    process: started,
    port: Number(started.match[1]),
    base: `ws://127.0.0.1:${started.match[1]}`,
  };
}

/**
 * The client app for the tests of one `describe`: started before them, stopped after.
 * `app.base` is its `ws://` base URL once started.
 */
export function useClientApp() {
  const app = { base: '', process: undefined as RunningProcess | undefined };
  beforeAll(async () => {
    const started = await startClientApp();
    app.process = started.process;
    app.base = started.base;
  });
  afterAll(async () => {
    if (app.process) await stop(app.process);
  });
  return app;
}

export async function stop(process: RunningProcess): Promise<void> {
  process.child.kill('SIGTERM');
  await process.exited;
}

type Recorded = {
  [K in keyof ReconnectingWebSocketEventMap]: { type: K; event: ReconnectingWebSocketEventMap[K] };
}[keyof ReconnectingWebSocketEventMap];

/**
 * A `ReconnectingWebSocket` over `ws`, short delays, with every event it fires recorded in order:
 * `events`, the publications by topic (`seen`), the `hello` frames of the app (one per connection,
 * with the `since` values its URL carried).
 */
export function watchedClient(url: UrlSource, options: ReconnectingWebSocketOptions = {}) {
  const client = new ReconnectingWebSocket(url, {
    WebSocket,
    backoff: { firstDelayMs: 50, maxDelayMs: 200 },
    ...options,
  });
  const events: Recorded[] = [];
  const seen = new Map<string, { offset: number; data: string }[]>();
  const hellos: string[][] = [];
  for (const type of ['open', 'message', 'reconnecting', 'lost', 'close'] as const) {
    client.addEventListener(type, (event) => {
      events.push({ type, event } as Recorded);
      if (event instanceof Event && type === 'message') {
        const { topic, position, data } = event as ReconnectingWebSocketEventMap['message'];
        if (topic === undefined) {
          const frame = JSON.parse(String(data)) as { hello?: { since: string[] } };
          if (frame.hello) hellos.push(frame.hello.since);
        } else {
          seen.set(topic, [
            ...(seen.get(topic) ?? []),
            { offset: position!.offset, data: String(data) },
          ]);
        }
      }
    });
  }
  const of = <K extends keyof ReconnectingWebSocketEventMap>(type: K) =>
    events
      .filter((recorded) => recorded.type === type)
      .map(({ event }) => event as ReconnectingWebSocketEventMap[K]);
  return { client, events, seen, hellos, of };
}

/** Resolves when `check()` holds (polled every 10 ms); rejects after `timeoutMs` with `what`. */
export async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const due = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > due) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A `ws` connection to `/publish`: `publish(topic, data)`. */
export async function publisher(base: string) {
  const socket = new WebSocket(`${base}/publish`);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return {
    publish: (topic: string, data: string) => socket.send(JSON.stringify([topic, data])),
    close: () => socket.close(),
  };
}
