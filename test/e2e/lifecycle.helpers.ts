import type { WebSocket, ClientOptions } from 'ws';
import type { WebSocketHandler, WebSocketRegistry } from '../../src/index.js';
import { kRoute } from '../../src/handler/handler.symbols.js';
import { connect, until } from '../support/app.js';

/** Connects a client and finds the server's handler of that connection in the registry. */
export async function openPair(
  registry: WebSocketRegistry,
  url: string,
  options?: ClientOptions,
): Promise<{ client: WebSocket; handler: WebSocketHandler }> {
  const before = new Set([...registry].map((handler) => handler.id));
  const client = await connect(url, undefined, options);
  let handler: WebSocketHandler | undefined;
  await until(
    () => (handler = [...registry].find((candidate) => !before.has(candidate.id))) !== undefined,
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
  return handler[kRoute].counters.dropped;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
