import type { StreamPosition } from './interfaces/position.interface.js';

/**
 * The default wire convention of resume, shared by the server helpers (`streamEnvelope`,
 * `subscribedEnvelope`, `parseSince`) and the browser client. Pure functions, no import of server
 * code or Node, so the client bundles this file alone.
 *
 * Server to client, one JSON text frame each (Centrifugo's publication and subscribe reply):
 * - a publication: `{"topic":"chat:lobby","offset":12,"epoch":"9f2c…","data":"<the published text>"}`
 * - after `subscribe()`: `{"topic":"chat:lobby","offset":12,"epoch":"9f2c…","recovered":true}`, and
 *   `"reason"` when `recovered` is false (no `data`: where the connection is, nothing to show).
 *
 * Client to server: one `since` query parameter per topic, `<offset>:<epoch>:<topic>` (the topic
 * last, so it may hold `:`), e.g. `?since=12:9f2c:chat:lobby&since=3:77ab:news`.
 */
export const SINCE_PARAM = 'since';

/** A frame of the default convention, decoded (`data` undefined on a subscribe reply). */
export interface StreamEnvelope {
  topic: string;
  position: StreamPosition;
  /** The published text; undefined for the reply to a subscribe. */
  data?: string;
  /** On a subscribe reply: whether every publication after the client's `since` was replayed. */
  recovered?: boolean;
  /** On a subscribe reply with `recovered: false`: why (a `RecoveryFailureReason`). */
  reason?: string;
}

/** The frame of one publication: its text as `data`, with its topic and position. */
export function encodePublication(text: string, position: StreamPosition, topic: string): string {
  const { offset, epoch } = position;
  return `{"topic":${JSON.stringify(topic)},"offset":${offset},"epoch":${JSON.stringify(epoch)},"data":${JSON.stringify(text)}}`;
}

/** The frame that tells a client where `topic` is after a subscribe, and whether it recovered. */
export function encodeSubscribed(
  topic: string,
  position: StreamPosition,
  recovered: boolean,
  reason?: string,
): string {
  return JSON.stringify({ topic, ...position, recovered, reason });
}

/** Reads a frame of the convention; anything else (the app's own frames) is undefined. */
export function decodeEnvelope(text: string): StreamEnvelope | undefined {
  if (!text.startsWith('{"topic":')) return undefined;
  let frame: Record<string, unknown>;
  try {
    frame = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { topic, offset, epoch, data, recovered, reason } = frame;
  if (typeof topic !== 'string' || !Number.isSafeInteger(offset) || typeof epoch !== 'string') {
    return undefined;
  }
  const position = { offset: offset as number, epoch };
  if (typeof data === 'string') return { topic, position, data };
  if (typeof recovered !== 'boolean') return undefined;
  return { topic, position, recovered, reason: typeof reason === 'string' ? reason : undefined };
}

/** One `since` value: `<offset>:<epoch>:<topic>`. */
export function formatSince(topic: string, position: StreamPosition): string {
  return `${position.offset}:${position.epoch}:${topic}`;
}

/**
 * The positions in `since` values, by topic. Values that are not `<offset>:<epoch>:<topic>` with a
 * decimal offset are skipped (the topic resumes nothing); `handler.subscribe()` checks the rest.
 */
export function parseSinceValues(values: Iterable<string>): Map<string, StreamPosition> {
  const positions = new Map<string, StreamPosition>();
  for (const value of values) {
    const match = /^(\d{1,15}):([^:]+):(.+)$/s.exec(value);
    if (match) positions.set(match[3], { offset: Number(match[1]), epoch: match[2] });
  }
  return positions;
}
