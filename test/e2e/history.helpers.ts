import { Module, type Type } from '@nestjs/common';
import { WebSocket } from 'ws';
import {
  WsModule,
  type RecoveryResult,
  type StreamPosition,
  type TopicHistoryOptions,
  type WsModuleOptions,
} from '../../src/index.js';
import { startApp, until, type AdapterName } from '../support/app.js';
import { RedisProcess } from '../support/redis.js';

/** What a test runs after it, last first. */
export type Cleanups = (() => Promise<unknown> | void)[];

/** A redis-server of its own for one test; `cleanups` kills it. */
export async function startRedis(cleanups: Cleanups): Promise<RedisProcess> {
  const redis = await RedisProcess.start();
  cleanups.push(() => redis.kill());
  return redis;
}

/**
 * A Nest app on port 0 with `WsModule.forRoot({ heartbeatMs: 0, ...options })` and `controllers`,
 * logging errors only; `cleanups` closes it.
 */
export async function startWsApp(
  cleanups: Cleanups,
  controllers: Type[],
  options: WsModuleOptions,
  adapter: AdapterName = 'express',
) {
  @Module({ imports: [WsModule.forRoot({ heartbeatMs: 0, ...options })], controllers })
  class AppModule {}
  const started = await startApp({ imports: [AppModule] }, undefined, adapter, {
    logger: ['error'],
  });
  cleanups.push(() => started.app.close());
  return started;
}

/** The history `payload` of these tests: a JSON `pub` frame with the publication's position. */
export const pubPayload: NonNullable<TopicHistoryOptions['payload']> = (data, { offset, epoch }) =>
  JSON.stringify({ type: 'pub', data, offset, epoch });

/** A JSON frame of the history e2e handlers: `pub` (with its position), `subscribed`, `lost`, … */
export type HistoryFrame = { type: string; data?: string; reason?: string } & Partial<
  StreamPosition & RecoveryResult
> &
  Record<string, unknown>;

/** `since` from `?offset=&epoch=`, as a handler reads it from the client; none without `offset`. */
export function sinceOf(query: URLSearchParams): StreamPosition | undefined {
  const offset = query.get('offset');
  return offset === null ? undefined : { offset: Number(offset), epoch: query.get('epoch')! };
}

/**
 * A client whose frames are kept from the first (the server's `onOpen` may send with the 101);
 * resolves once a frame of type `first` came.
 */
export async function openFrames(url: string, first = 'subscribed') {
  const socket = new WebSocket(url);
  const frames: HistoryFrame[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data)) as HistoryFrame));
  await until(() => frames.some(({ type }) => type === first), 5000, first);
  return { socket, frames };
}

/** The publications among `frames`. */
export const pubs = (frames: HistoryFrame[]) => frames.filter(({ type }) => type === 'pub');
