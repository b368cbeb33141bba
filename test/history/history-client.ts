import { WebSocket } from 'ws';
import type { RecoveryResult, StreamPosition } from '../../src/index.js';

/** A frame of the history test app (test/history/history.app.mjs, and the e2e spec's handler). */
export type HistoryFrame =
  | { type: 'pub'; topic: string; offset: number; epoch: string; data: string }
  | ({ type: 'recovery'; topic: string } & RecoveryResult)
  | { type: 'lost'; topic: string; reason: string; position: StreamPosition };

/** The query of `/h`: the topics, and where to resume each from. */
export function historyQuery(topics: string[], since: Record<string, unknown> = {}): string {
  return `?topics=${topics.join(',')}&since=${encodeURIComponent(JSON.stringify(since))}`;
}

/**
 * A client of `/h` that drops and comes back (maybe to another instance), resuming each topic from
 * the last position it saw, and keeps every publication it got, per topic, across connections.
 */
export class ResumingClient {
  readonly positions = new Map<string, StreamPosition>();
  readonly received = new Map<string, { offset: number; epoch: string; data: string }[]>();
  readonly recoveries: HistoryFrame[] = [];
  readonly lost: HistoryFrame[] = [];
  private socket: WebSocket | undefined;

  constructor(readonly topics: string[]) {
    for (const topic of topics) this.received.set(topic, []);
  }

  /** Connects to `base` (`ws://host:port`) and resolves once every topic is subscribed. */
  connect(base: string, timeoutMs = 10_000): Promise<HistoryFrame[]> {
    const since = Object.fromEntries(this.positions);
    const socket = new WebSocket(`${base}/h${historyQuery(this.topics, since)}`);
    this.socket = socket;
    const results: HistoryFrame[] = [];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`not subscribed within ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.once('error', reject);
      socket.on('message', (bytes: Buffer) => {
        const frame = JSON.parse(bytes.toString()) as HistoryFrame;
        this.take(frame);
        if (frame.type !== 'recovery') return;
        results.push(frame);
        if (results.length === this.topics.length) {
          clearTimeout(timer);
          resolve(results);
        }
      });
    });
  }

  /** Drops the connection without a close frame (a network loss). */
  drop(): void {
    this.socket?.terminate();
    this.socket = undefined;
  }

  private take(frame: HistoryFrame): void {
    if (frame.type === 'pub') {
      this.received
        .get(frame.topic)!
        .push({ offset: frame.offset, epoch: frame.epoch, data: frame.data });
      this.positions.set(frame.topic, { offset: frame.offset, epoch: frame.epoch });
    } else if (frame.type === 'recovery') {
      this.recoveries.push(frame);
      if (frame.position !== undefined) this.positions.set(frame.topic, frame.position);
    } else this.lost.push(frame);
  }
}
