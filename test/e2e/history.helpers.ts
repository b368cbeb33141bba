import { WebSocket } from 'ws';
import type { RecoveryResult, StreamPosition } from '../../src/index.js';
import { until } from '../support/app.js';

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
