import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ReconnectingWebSocket, type ReconnectingEvent } from '../../src/client/index.js';

/**
 * The client's timing with fake timers (its setTimeout only; the sockets are real): a `ws` server
 * that closes every connection with 1013 at once, and Math.random fixed at 0.5.
 */
describe('reconnect timing (fake timers, a real ws server)', () => {
  let server: WebSocketServer;
  let connections = 0;
  let url: string;

  beforeEach(async () => {
    connections = 0;
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    server.on('connection', (socket) => {
      connections++;
      socket.close(1013, 'later');
    });
    await new Promise((resolve) => server.once('listening', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
  });

  afterEach(async () => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    await new Promise((resolve) => server.close(resolve));
  });

  it('waits half of each ceiling (random 0.5): 250, 500, 1000, 2000, 4000, 5000 ms, and not a moment less', async () => {
    const client = new ReconnectingWebSocket(url, {
      WebSocket,
      backoff: { firstDelayMs: 500, maxDelayMs: 10_000, factor: 2 },
    });
    const delays: number[] = [];
    client.addEventListener('reconnecting', (event: ReconnectingEvent) =>
      delays.push(event.delayMs),
    );
    for (const [index, delay] of [250, 500, 1000, 2000, 4000, 5000, 5000].entries()) {
      await vi.waitFor(() => expect(delays).toHaveLength(index + 1));
      expect(delays[index]).toBe(delay);
      expect(connections).toBe(index + 1);
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(connections).toBe(index + 1); // no attempt before its time
      await vi.advanceTimersByTimeAsync(1);
      await vi.waitFor(() => expect(connections).toBe(index + 2));
    }
    client.close();
    expect(client.state).toBe('closed');
  });

  it('close() while waiting cancels the attempt', async () => {
    const client = new ReconnectingWebSocket(url, { WebSocket });
    await vi.waitFor(() => expect(client.state).toBe('reconnecting'));
    client.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(connections).toBe(1);
  });
});
