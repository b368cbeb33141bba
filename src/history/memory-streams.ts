import type { WebSocketMessage } from '../interfaces/websocket-message.interface.js';
import type { StreamPosition, StreamRead } from '../interfaces/stream-position.interface.js';
import type { ResolvedTopicHistory } from '../interfaces/topic-history-options.interface.js';
import { newEpoch } from './stream-epoch.js';

/** One topic's stream: a ring of its last `size` publications, slot = offset % size. */
interface MemoryStream {
  epoch: string;
  top: number;
  ring: ({ offset: number; data: WebSocketMessage } | undefined)[];
  /** When the stream expires (ms since epoch): `ttlMs` after its last publication. */
  expiresAt: number;
}

/**
 * The in-process history: a bounded ring per topic, sequenced synchronously. A stream idle for
 * longer than its `ttlMs` is dropped (with its epoch: a later publication starts a new stream).
 */
export class MemoryStreams {
  private readonly streams = new Map<string, MemoryStream>();
  private sweeper: NodeJS.Timeout | undefined;

  /** Appends a publication and returns its position. */
  append(topic: string, data: WebSocketMessage, history: ResolvedTopicHistory): StreamPosition {
    const now = Date.now();
    const stream = this.stream(topic, history, now);
    const offset = ++stream.top;
    stream.ring[offset % history.size] = { offset, data };
    stream.expiresAt = now + history.ttlMs;
    this.sweeper ??= setInterval(() => this.sweep(), Math.min(history.ttlMs, 60_000)).unref();
    return { offset, epoch: stream.epoch };
  }

  /** The publications after offset `since` (at most `limit`), with the stream's epoch and top. */
  read(topic: string, since: number, limit: number, history: ResolvedTopicHistory): StreamRead {
    const stream = this.stream(topic, history, Date.now());
    const publications = [];
    const oldest = Math.max(since + 1, stream.top - history.size + 1, 1);
    const last = Math.min(stream.top, oldest + limit - 1);
    for (let offset = oldest; offset <= last; offset++) {
      const entry = stream.ring[offset % history.size];
      if (entry?.offset === offset) publications.push({ offset, data: entry.data });
    }
    return { epoch: stream.epoch, top: stream.top, publications };
  }

  /** Stops the sweeper (at shutdown). */
  stop(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private stream(topic: string, history: ResolvedTopicHistory, now: number): MemoryStream {
    let stream = this.streams.get(topic);
    if (stream === undefined || stream.expiresAt <= now) {
      stream = { epoch: newEpoch(), top: 0, ring: [], expiresAt: now + history.ttlMs };
      this.streams.set(topic, stream);
    }
    return stream;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [topic, stream] of this.streams)
      if (stream.expiresAt <= now) this.streams.delete(topic);
  }
}
