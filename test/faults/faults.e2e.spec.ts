import type { INestApplication } from '@nestjs/common';
import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketRegistry, type WebSocketDisconnection } from '../../src/index.js';
import { ADAPTERS, startApp, until } from '../support/app.js';
import { frames, RawWebSocket } from '../support/frames.js';
import { handshakeRequest } from '../support/raw-http.js';
import {
  CLOSE_TIMEOUT_MS,
  FaultsModule,
  HANDSHAKE_TIMEOUT_MS,
  recordDisconnections,
} from './faults.app.js';
import { startLatencyProbe } from './latency-probe.js';

/** How long a healthy client's echo may take while another connection misbehaves (a bound, not a benchmark). */
const LATENCY_BOUND_MS = 1000;

describe.each(ADAPTERS)(
  'faults: each is freed, the registry forgets it, others go on (%s)',
  (adapter) => {
    let app: INestApplication;
    let port: number;
    let registry: WebSocketRegistry;
    let disconnections: WebSocketDisconnection[];

    beforeAll(async () => {
      ({ app, port } = await startApp({ imports: [FaultsModule] }, undefined, adapter));
      registry = app.get(WebSocketRegistry);
      disconnections = recordDisconnections(registry);
    });
    afterAll(() => app.close());

    /**
     * Runs `fault` while a healthy client echoes; resolves once the registry is back to its size
     * before the fault, with the faulty connection's close code and the healthy client's figures.
     */
    async function underFault(path: string, fault: () => Promise<void>, boundMs = 3000) {
      const probe = await startLatencyProbe(`ws://127.0.0.1:${port}/echo`);
      await until(() => registry.size === 1, 3000, 'the probe to connect');
      const before = disconnections.length;
      await fault();
      await until(
        () => registry.size === 1,
        boundMs,
        'the registry to forget the faulty connection',
      );
      const closes = disconnections.slice(before).filter((event) => event.handler.path === path);
      const { roundTrips, maxLatencyMs } = await probe.stop();
      await until(() => registry.size === 0, 3000, 'the probe to be forgotten');
      return { codes: closes.map((event) => event.code), roundTrips, maxLatencyMs };
    }

    it('frees a client that resets the connection in the middle of a frame', async () => {
      const result = await underFault('/echo', async () => {
        const client = await RawWebSocket.open(port, '/echo');
        await until(() => registry.size === 2, 3000, 'the faulty client to connect');
        const frame = frames.binary(Buffer.alloc(4000, 7));
        client.write(frame.subarray(0, 1000));
        await new Promise((resolve) => setTimeout(resolve, 50));
        client.socket.resetAndDestroy();
      });
      expect(result.codes).toEqual([1006]);
      expect(result.roundTrips).toBeGreaterThan(0);
      expect(result.maxLatencyMs).toBeLessThan(LATENCY_BOUND_MS);
    });

    it('frees a client that half-closes (FIN without a close frame)', async () => {
      let serverClosedTcp = false;
      const result = await underFault('/echo', async () => {
        const client = await RawWebSocket.open(port, '/echo');
        await until(() => registry.size === 2, 3000, 'the faulty client to connect');
        client.write(frames.text('half', false));
        client.socket.end();
        await until(() => client.tcpClosed, 3000, 'the server to close its side');
        serverClosedTcp = client.tcpClosed;
      });
      expect(serverClosedTcp).toBe(true);
      expect(result.codes).toEqual([1006]);
      expect(result.maxLatencyMs).toBeLessThan(LATENCY_BOUND_MS);
    });

    it('frees a client that stops reading: backpressure closes it, the close timeout terminates it', async () => {
      const result = await underFault(
        '/flood',
        async () => {
          const client = await RawWebSocket.open(port, '/flood');
          await until(() => registry.size === 2, 3000, 'the faulty client to connect');
          client.socket.pause(); // never reads again: the server's queue grows past maxBackpressure
          client.write(frames.text('flood me'));
        },
        CLOSE_TIMEOUT_MS + 3000,
      );
      // 1008 was sent but never answered, so the socket was terminated: the handler still sees
      // the 1008 it was closed with.
      expect(result.codes).toEqual([1008]);
      expect(result.maxLatencyMs).toBeLessThan(LATENCY_BOUND_MS);
    });

    it(`answers a handshake sent 1 byte per second within handshakeTimeoutMs (${HANDSHAKE_TIMEOUT_MS} ms) and a check interval`, async () => {
      let outcome = { status: '', closed: false, tookMs: 0 };
      const result = await underFault(
        '/echo',
        async () => {
          const socket = netConnect(port, '127.0.0.1');
          socket.on('error', () => undefined);
          const request = handshakeRequest('/echo');
          const started = performance.now();
          let received = '';
          socket.on('data', (chunk) => (received += chunk.toString('latin1')));
          let sent = 0;
          const trickle = setInterval(() => {
            if (sent < request.length && !socket.destroyed) socket.write(request[sent++]);
          }, 1000);
          socket.write(request[sent++]);
          await new Promise<void>((resolve) => socket.once('close', () => resolve()));
          clearInterval(trickle);
          outcome = {
            status: received.split(' ')[1] ?? '',
            closed: true,
            tookMs: performance.now() - started,
          };
        },
        HANDSHAKE_TIMEOUT_MS * 5,
      );
      expect(outcome.closed).toBe(true);
      expect(outcome.status).toBe('408');
      // Bounded by the option plus Node's check interval (a quarter of it), not by Node's 60 s default.
      expect(outcome.tookMs).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 50);
      expect(outcome.tookMs).toBeLessThan(HANDSHAKE_TIMEOUT_MS * 3);
      expect(result.codes).toEqual([]); // it never became a connection
      expect(result.maxLatencyMs).toBeLessThan(LATENCY_BOUND_MS);
    });
  },
);
