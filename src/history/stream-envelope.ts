import type { StreamPosition } from '../interfaces/position.interface.js';
import type { RecoveryResult } from '../interfaces/stream-position.interface.js';
import type { WebSocketMessage } from '../interfaces/websocket-message.interface.js';
import {
  SINCE_PARAM,
  encodePublication,
  encodeSubscribed,
  parseSinceValues,
} from '../resume.wire.js';

/**
 * A history `payload` that puts each text publication in the default resume envelope, so that
 * `nestjs-ws-routes/client` knows its topic and position:
 * `{"topic":"chat:lobby","offset":12,"epoch":"9f2c…","data":"<the published text>"}` (one JSON
 * string per publication, built once for all subscribers; Centrifugo's publication with its
 * offset and epoch). Binary publications go out as they are, without a position.
 *
 * @example
 * WsModule.forRoot({ history: { topics: { 'chat:*': { size: 200, payload: streamEnvelope } } } })
 */
export function streamEnvelope(
  data: WebSocketMessage,
  position: StreamPosition,
  topic: string,
): WebSocketMessage {
  return typeof data === 'string' ? encodePublication(data, position, topic) : data;
}

/**
 * The frame a handler sends right after `await this.subscribe(topic, { since })`, so the client
 * knows where `topic` is before its next publication, and whether the resume recovered
 * everything (Centrifugo's subscribe reply):
 * `{"topic":"chat:lobby","offset":12,"epoch":"9f2c…","recovered":false,"reason":"epoch"}`. The
 * client fires `lost` when `recovered` is false. Send it right after `subscribe()` resolves, with
 * no `await` between: the publications after `recovery.position` are held until then (see
 * `RecoveryResult.position`), so it reaches the client before them. Undefined for a topic without
 * history (no position): send nothing then.
 *
 * @example
 * const recovery = await this.subscribe(topic, { since: parseSince(this.query).get(topic) });
 * const frame = subscribedEnvelope(topic, recovery);
 * if (frame) this.send(frame);
 */
export function subscribedEnvelope(topic: string, recovery: RecoveryResult): string | undefined {
  if (!recovery.position) return undefined;
  return encodeSubscribed(topic, recovery.position, recovery.recovered, recovery.reason);
}

/**
 * The positions a client of the default convention sent, by topic: every `since` query
 * parameter, each `<offset>:<epoch>:<topic>` (`?since=12:9f2c:chat:lobby&since=3:77ab:news`). Pass
 * `positions.get(topic)` to `handler.subscribe(topic, { since })`. Malformed values are skipped
 * (that topic starts afresh); a well-formed position of another stream gets `recovered: false`
 * from `subscribe()`, never an exception. Accepts the handler's `this.query` or a query string.
 */
export function parseSince(query: URLSearchParams | string): Map<string, StreamPosition> {
  const params = typeof query === 'string' ? new URLSearchParams(query) : query;
  return parseSinceValues(params.getAll(SINCE_PARAM));
}
