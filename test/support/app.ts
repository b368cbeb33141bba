import type { INestApplication, ModuleMetadata, NestApplicationOptions } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { WebSocket, type ClientOptions } from 'ws';
import { WsServer } from '../../src/index.js';

/** The HTTP adapters every e2e suite runs on: `describe.each(ADAPTERS)('... (%s)', (adapter) => ...)`. */
export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/** Where routes can be served: the app's HTTP server on each platform, or a standalone port. */
export const SERVERS = [...ADAPTERS, 'standalone'] as const;
export type ServerName = (typeof SERVERS)[number];

/** `WsModule.forRoot()` options that put the routes on `server` (a port of their own for 'standalone'). */
export function portFor(server: ServerName): { port?: number; host?: string } {
  return server === 'standalone' ? { port: 0, host: '127.0.0.1' } : {};
}

/**
 * `startApp()` on `server` (Express under the standalone port); `url(path)` is the routes' URL,
 * on whichever server serves them. The module must use `portFor(server)`.
 */
export async function startOn(
  server: ServerName,
  metadata: ModuleMetadata,
): Promise<{ app: INestApplication; url: (path: string) => string }> {
  const { app } = await startApp(metadata, undefined, server === 'standalone' ? 'express' : server);
  return { app, url: (path) => app.get(WsServer).url(path) };
}

/**
 * A real Nest app on 127.0.0.1, port 0, with the given module metadata, on Express (default) or
 * Fastify (or a given adapter instance); `options` are Nest's application options (`logger: false`
 * unless given).
 */
export async function startApp(
  metadata: ModuleMetadata,
  configure?: (app: INestApplication) => unknown,
  adapter: AdapterName | AbstractHttpAdapter = 'express',
  options: NestApplicationOptions = {},
): Promise<{ app: INestApplication; port: number; url: (path: string) => string }> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const appOptions = { logger: false as const, ...options };
  const app =
    adapter === 'express'
      ? moduleRef.createNestApplication(appOptions)
      : moduleRef.createNestApplication(
          adapter === 'fastify' ? new FastifyAdapter() : adapter,
          appOptions,
        );
  await configure?.(app);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, url: (path) => `ws://127.0.0.1:${port}${path}` };
}

/** Opens a `ws` client and resolves once it is open (rejects on an error or a refused handshake). */
export function connect(
  url: string,
  protocols?: string | string[],
  options?: ClientOptions,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, options);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) =>
      reject(new Error(`unexpected response ${res.statusCode}`)),
    );
  });
}

/** The next message of a client, text as string and binary as Buffer. */
export function nextMessage(socket: WebSocket, timeoutMs = 5000): Promise<string | Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('no message within ' + timeoutMs + ' ms')),
      timeoutMs,
    );
    socket.once('message', (data: Buffer, isBinary: boolean) => {
      clearTimeout(timer);
      resolve(isBinary ? data : data.toString());
    });
  });
}

/** Collects `count` messages. */
export function messages(
  socket: WebSocket,
  count: number,
  timeoutMs = 5000,
): Promise<(string | Buffer)[]> {
  return new Promise((resolve, reject) => {
    const received: (string | Buffer)[] = [];
    const timer = setTimeout(
      () => reject(new Error(`got ${received.length} of ${count} messages within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (data: Buffer, isBinary: boolean) => {
      received.push(isBinary ? data : data.toString());
      if (received.length === count) {
        clearTimeout(timer);
        socket.off('message', onMessage);
        resolve(received);
      }
    };
    socket.on('message', onMessage);
  });
}

/** Resolves with the close code and reason the client saw. */
export function closed(
  socket: WebSocket,
  timeoutMs = 5000,
): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    if (socket.readyState === WebSocket.CLOSED) reject(new Error('already closed'));
    const timer = setTimeout(
      () => reject(new Error('not closed within ' + timeoutMs + ' ms')),
      timeoutMs,
    );
    socket.once('close', (code: number, reason: Buffer) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

/** Waits until `predicate` holds, polling. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
