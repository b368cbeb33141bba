import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { ClientOptions, WebSocket } from 'ws';
import { WebSocketRegistry, type WebSocketHandler } from '../../src/index.js';
import { kContext } from '../../src/handler/handler.symbols.js';
import { connect, startApp, until, type AdapterName } from '../support/app.js';

export interface LifecycleApp {
  app: INestApplication;
  registry: WebSocketRegistry;
  url: (path: string) => string;
  /** Connects a client (terminated after the test) and finds its handler on the server. */
  open: (path: string, options?: ClientOptions) => ReturnType<typeof openPair>;
}

/** Starts the app before the suite, closes it after, and terminates each test's clients. */
export function useLifecycleApp(
  metadata: ModuleMetadata,
  adapter: AdapterName = 'express',
  configure?: (app: INestApplication) => void,
): LifecycleApp {
  const clients: WebSocket[] = [];
  const context = {
    open: async (path: string, options?: ClientOptions) => {
      const pair = await openPair(context.registry, context.url(path), options);
      clients.push(pair.client);
      return pair;
    },
  } as LifecycleApp;
  beforeAll(async () => {
    const started = await startApp(metadata, configure, adapter);
    context.app = started.app;
    context.url = started.url;
    context.registry = started.app.get(WebSocketRegistry);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.terminate();
  });
  afterAll(() => context.app.close());
  return context;
}

let pairs = 0;

/**
 * Connects a client and finds the server's handler of that connection in the registry (by a
 * unique `pair` query parameter, so concurrent opens cannot mix up).
 */
export async function openPair(
  registry: WebSocketRegistry,
  url: string,
  options?: ClientOptions,
): Promise<{ client: WebSocket; handler: WebSocketHandler }> {
  const pair = String(++pairs);
  const client = await connect(
    `${url}${url.includes('?') ? '&' : '?'}pair=${pair}`,
    undefined,
    options,
  );
  let handler: WebSocketHandler | undefined;
  await until(
    () =>
      (handler = registry.filter((candidate) => candidate.query.get('pair') === pair)[0]) !==
      undefined,
    5000,
    'the server side of the connection',
  );
  return { client, handler: handler! };
}

/** Stops the client from reading: the server's writes pile up in the kernel, then in its queue. */
export function pauseReading(client: WebSocket): void {
  (client as unknown as { _socket: { pause(): void } })._socket.pause();
}

export function resumeReading(client: WebSocket): void {
  (client as unknown as { _socket: { resume(): void } })._socket.resume();
}

/** Sends refused by the backpressure policy on the handler's route (what `stats()` reports as dropped). */
export function droppedSends(handler: WebSocketHandler): number {
  return handler[kContext].counters.dropped;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends refused because the connection was closing or closed (what `stats()` reports as sentAfterClose). */
export function sentAfterClose(handler: WebSocketHandler): number {
  return handler[kContext].counters.sentAfterClose;
}
