import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { EMPTY, Observable, Subject, of } from 'rxjs';
import { WebSocket } from 'ws';
import { WebSocketCloseCode } from '../close-codes.js';
import { InvalidCloseCodeError } from '../errors/invalid-close-code.error.js';
import { WebSocketClosedError } from '../errors/websocket-closed.error.js';
import type { PresenceEvent, PresenceInfo } from '../interfaces/presence.interface.js';
import type {
  ContinuityLoss,
  RecoveryResult,
  SubscribeOptions,
} from '../interfaces/stream-position.interface.js';
import type { HandlerContext } from './handler-context.interface.js';
import type { WebSocketMessage } from '../interfaces/websocket-message.interface.js';
import {
  closeReasonTooLongMessage,
  invalidCloseCodeMessage,
  sendAfterCloseMessage,
} from '../ws.messages.js';
import { connectionId } from '../util/connection-id.js';
import { queryOf } from '../util/url.js';
import {
  kAlive,
  kClosed,
  kCloseSent,
  kContext,
  kId,
  kDrain,
  kDrainPending,
  kForward,
  kIdleTicks,
  kQueue,
  kSocket,
  kStreams,
  kTopics,
} from './handler.symbols.js';

export type { WebSocketMessage } from '../interfaces/websocket-message.interface.js';

/**
 * The handshake's request as the platform gives it to guards and `@Req()`: Express's `Request`,
 * Fastify's `FastifyRequest` (with `raw`), or Node's `IncomingMessage` on the standalone port.
 */
export interface WebSocketRequest {
  readonly headers: IncomingHttpHeaders;
  readonly url?: string;
  readonly method?: string;
  readonly socket: Socket;
  /** What middleware, hooks and guards added (`user`, `cookies`, `session`...). */
  [key: string]: any;
}

/** How a connection ended, as `onClose` and `closed$` report it. */
export interface WebSocketCloseEvent {
  code: number;
  reason: string;
}

interface Streams {
  messages?: Subject<WebSocketMessage>;
  closed?: Subject<WebSocketCloseEvent>;
}

/**
 * Base class of a WebSocket route's handler: one instance per connection (ws4py's `WebSocket`).
 * Subclass it, implement the hooks you need, and name the class in `@WebSocketRoute()`.
 * Constructor parameters are injected from the module that declares the route's controller.
 *
 * Hooks may be async. `onMessage` is called in arrival order and is not awaited before the next
 * message; messages that arrive while the controller method or `onOpen()` is still running are
 * held and delivered, in order, once `onOpen()` has settled. A hook that throws (or rejects)
 * closes this connection only, with 1011, unless it throws a `WebSocketCloseException`.
 *
 * @example
 * ```ts
 * @Injectable()
 * class GreetHandler extends WebSocketHandler {
 *   constructor(private readonly greeter: Greeter) { super(); }
 *   onOpen() { this.send(this.greeter.hello(this.params.name)); }
 *   onMessage(data: string | Buffer) { this.send(data); }
 * }
 * ```
 */
export abstract class WebSocketHandler {
  /**
   * Unique id of this connection: a random (version 4) UUID, so unique across instances too. Made
   * on first read; `WebSocketRegistry.get(id)` finds the connection by it while it is open.
   */
  get id(): string {
    let id = this[kId];
    if (id === undefined) {
      id = this[kId] = connectionId();
      this[kContext]?.identified(this, id);
    }
    return id;
  }
  /**
   * The handshake's request as the app's middleware and guards saw it, what `@Req()` gives an HTTP
   * route: Express's `Request` (Node's `IncomingMessage`), Fastify's `FastifyRequest`, or the
   * upgrade request on the standalone port. What they put on it is there (`request.user`,
   * `request.cookies`, `request.session`). Node's own request: `rawRequest`. The connection keeps
   * it for its lifetime, but not the handshake's response: Express's `res`, `next` and `_parsedUrl`
   * are `undefined` once it is open (the answer was the 101; anything big that middleware puts on
   * the request stays alive with the connection).
   */
  readonly request!: WebSocketRequest;
  /** The route's full path pattern, e.g. `/greet/:name`. */
  readonly path!: string;
  /** Values of the route's `:param` segments, decoded. */
  readonly params!: Record<string, string>;

  /** @internal */ [kSocket]!: WebSocket;
  /** @internal the id, once read (see `id`). */
  [kId]: string | undefined;
  /** @internal what the handler reaches of its route and the library. */ [kContext]!: HandlerContext;
  /** @internal messages held while the connection is opening; undefined once open. */
  [kQueue]: WebSocketMessage[] | undefined;
  /** @internal heartbeat: whether the peer sent anything since the last ping. */
  [kAlive]!: boolean;
  /** @internal idle timeout: idle-check ticks since the last message. */
  [kIdleTicks]!: number;
  /** @internal RxJS subjects, created only when someone subscribes. */
  [kStreams]: Streams | undefined;
  /** @internal topics this connection is subscribed to. */
  [kTopics]: Set<string> | undefined;
  /** @internal write callback reporting `onDrain`, created on first need. */
  [kDrain]: ((error?: Error | null) => void) | undefined;
  /** @internal a send was queued or refused: `onDrain` is due once the queue is empty. */
  [kDrainPending]: boolean | undefined;
  /** @internal how the connection ended, once it has (replayed by `closed$`). */
  [kClosed]: WebSocketCloseEvent | undefined;
  /** @internal the close this server started, once it has: what `onClose` gets. */
  [kCloseSent]: WebSocketCloseEvent | undefined;

  /** Called once the handshake succeeded and the controller method ran. */
  onOpen?(): unknown;
  /** Called for every message: text as `string`, binary as `Buffer`. */
  onMessage?(data: WebSocketMessage): unknown;
  /**
   * Called once when the connection has closed. When this server closed it (`closedByServer`), it
   * gets the code and reason this server sent, whatever the peer answered (or if it never did):
   * `close(code, reason)`'s, 1002 for a malformed frame, 1007 for invalid UTF-8, 1009 for a
   * message over `maxPayload`, 1008 `backpressure limit`, 1001 `idle timeout`, 1001 at shutdown
   * (reasons empty for the frame errors, which `ws` sends without one), 1006 after `terminate()`
   * or a missed heartbeat. Otherwise the peer's code and reason: 1005 for a close frame without a
   * code, 1006 when the connection ended without a close frame.
   */
  onClose?(code: number, reason: string): unknown;
  /** Called with protocol errors (`ws` closes the connection after them) and socket errors. */
  onError?(error: Error): unknown;
  /** Called when the peer answers a ping. */
  onPong?(data: Buffer): unknown;
  /**
   * Called once the queue has emptied after a `send()` returned false (queued behind a slow
   * reader, or refused by `backpressure: 'drop'`): the moment to send again.
   */
  onDrain?(): unknown;
  /**
   * Called with each change of the presence of a topic this connection subscribed to or joined
   * the presence of: `{ topic, joins, leaves }`, from every instance, this connection's own included.
   */
  onPresence?(event: PresenceEvent): unknown;
  /**
   * Called when this instance lost the continuity of a topic with history this connection is
   * subscribed to (Centrifugo's "insufficient state"): the stream's history was lost (`'epoch'`)
   * or the publications missed during an outage were trimmed (`'too-old'`). The connection gets
   * the live publications from `loss.position` on; the moment to make the client reload. A
   * handler without this hook is closed with 3000 `LOST_CONTINUITY` (`'lost continuity'`)
   * instead, so its client reconnects and fetches its state again.
   */
  onContinuityLost?(loss: ContinuityLoss): unknown;

  /** Node's `IncomingMessage` of the handshake (Fastify's `request.raw`, else `request` itself). */
  get rawRequest(): IncomingMessage {
    return (this.request.raw ?? this.request) as IncomingMessage;
  }

  /** The query string of the upgrade request. */
  get query(): URLSearchParams {
    return new URLSearchParams(queryOf(this.request.url));
  }

  /** The subprotocol chosen at the handshake, or `''`. */
  get protocol(): string {
    return this[kSocket].protocol;
  }

  /** The peer's IP address. */
  get remoteAddress(): string | undefined {
    return this.request.socket.remoteAddress;
  }

  /** Whether the connection is open (not yet closing). */
  get isOpen(): boolean {
    return this[kSocket].readyState === WebSocket.OPEN;
  }

  /** Bytes passed to `send()` and not yet written to the socket. */
  get bufferedAmount(): number {
    return this[kSocket].bufferedAmount;
  }

  /** The topics this connection is subscribed to. */
  get topics(): ReadonlySet<string> {
    return this[kTopics] ?? EMPTY_TOPICS;
  }

  /**
   * Sends a message: a `string` as a text frame, a `Buffer` as a binary frame.
   * Returns true when it went straight to the socket, false when it was queued behind a slow
   * reader (then `onDrain()` follows once the queue is empty) or refused by the route's
   * `backpressure` policy because the queue would grow past `maxBackpressure`. A message sent
   * while nothing is queued is always accepted, whatever its size.
   * On a closing or closed connection it writes nothing, returns false and counts the send in
   * `stats()`'s `sentAfterClose` (default `sendAfterClose: 'ignore'`: a timer that fires while the
   * peer leaves is normal), or throws `WebSocketClosedError` with `sendAfterClose: 'throw'`.
   */
  send(data: WebSocketMessage): boolean {
    return this.write(data, typeof data === 'string' ? TEXT : BINARY);
  }

  /** @internal `send()` of a received payload as it came (text or binary), without decoding it. */
  [kForward](data: Buffer, isBinary: boolean): boolean {
    return this.write(data, isBinary ? BINARY : TEXT);
  }

  private write(data: WebSocketMessage, options: SendOptions): boolean {
    const socket = this[kSocket];
    if (socket.readyState !== WebSocket.OPEN) return this.refuseClosedSend();
    if (this.exceedsBackpressure(socket, data)) return this.applyBackpressure();
    this.count(data);
    if (this.onDrain === undefined) {
      socket.send(data, options);
      return socket.bufferedAmount === 0;
    }
    socket.send(data, options, (this[kDrain] ??= this.createDrainCallback()));
    if (socket.bufferedAmount === 0) return true;
    this[kDrainPending] = true;
    return false;
  }

  /**
   * Like `send()`, for code that awaits: resolves with true once the message was written to the
   * socket, or with false when the `backpressure` policy refused it or the connection is closing,
   * closed, or closes before the write (default `sendAfterClose: 'ignore'`, so an awaited send in a
   * timer never becomes an unhandled rejection). With `sendAfterClose: 'throw'` those last cases
   * reject with `WebSocketClosedError` instead.
   */
  sendAsync(data: WebSocketMessage): Promise<boolean> {
    const socket = this[kSocket];
    return new Promise((resolve, reject) => {
      if (socket.readyState !== WebSocket.OPEN) return resolve(this.refuseClosedSend());
      if (this.exceedsBackpressure(socket, data)) return resolve(this.applyBackpressure());
      this.count(data);
      socket.send(data, (error) => {
        if (error) {
          if (this[kContext].options.sendAfterClose === 'ignore') resolve(false);
          else reject(new WebSocketClosedError(sendAfterCloseMessage(this.path, this.id), error));
          return;
        }
        this[kDrain]?.();
        resolve(true);
      });
    });
  }

  /** Sends a ping; the peer's pong reaches `onPong()`. On a closing or closed connection it does nothing. */
  ping(data?: Buffer | string): void {
    if (this[kSocket].readyState === WebSocket.OPEN) this[kSocket].ping(data);
  }

  /**
   * Starts the closing handshake with `code` and `reason` after what is already queued.
   * Throws `InvalidCloseCodeError` for a code that may not be sent or a reason over 123 bytes.
   * Calling it again, or on a closed connection, does nothing. If the peer does not answer
   * within `closeTimeoutMs`, the socket is destroyed; `onClose` gets `code` and `reason` either way.
   */
  close(code: number = WebSocketCloseCode.NORMAL, reason = ''): void {
    assertSendableClose(code, reason);
    const socket = this[kSocket];
    // ws bounds the close handshake itself (its `closeTimeout` is the route's `closeTimeoutMs`).
    if (socket.readyState !== WebSocket.OPEN) return;
    this[kCloseSent] ??= { code, reason };
    socket.close(code, reason);
  }

  /** Destroys the connection at once, without a close frame (`onClose` gets 1006). */
  terminate(): void {
    const socket = this[kSocket];
    if (socket.readyState !== WebSocket.CLOSED) this[kCloseSent] ??= DROPPED;
    socket.terminate();
  }

  /**
   * Whether this server closed the connection: it started the closing handshake (sent the first
   * Close frame, RFC 6455 section 7.1.2: `close()`, a frame `ws` refused, backpressure, idle
   * timeout, shutdown) or dropped it (`terminate()`, a missed heartbeat). False while open, and
   * when the peer closed it or vanished. Read it in `onClose` to tell "we closed it" (the code
   * is then the one sent) from "the peer closed it" (the code is the peer's).
   */
  get closedByServer(): boolean {
    return this[kCloseSent] !== undefined;
  }

  /**
   * Subscribes this connection to `topic`: `registry.publish(topic, data)` then reaches it.
   * A connection leaves all its topics when it closes; on a closed one this does nothing (it
   * resolves `recovered: false`, reason `'closed'`).
   *
   * For a topic with history (`WsModule.forRoot({ history })`), `options.since` (the last position
   * the client saw) first replays, in order and exactly once, every publication after it, then the
   * live ones. Resolves to the recovery result (`recovered`, `reason`, `position`); it never
   * rejects, whatever `since` holds. A topic without history subscribes at once.
   */
  subscribe(topic: string, options?: SubscribeOptions): Promise<RecoveryResult> {
    return this[kContext].subscribe(this, topic, options);
  }

  /** Leaves `topic`; does nothing if it is not subscribed (e.g. the connection has closed). */
  unsubscribe(topic: string): void {
    this[kContext].unsubscribe(this, topic);
  }

  /**
   * Joins `topic`'s presence with `info`, a small JSON-serialisable object (e.g. `{ name }`),
   * cluster-wide with `RedisPresence`; joining again replaces the info. The connection leaves
   * when it closes. Resolves once recorded (at once while Redis is away: recorded when it is
   * back); rejects with a `TypeError` when `info` is not a JSON-serialisable object.
   * After Phoenix Presence's `track` and Centrifugo's presence `info`.
   */
  joinPresence(topic: string, info: PresenceInfo = {}): Promise<void> {
    return this[kContext].joinPresence(this, topic, info);
  }

  /** Leaves `topic`'s presence (announced as a leave); nothing if it had not joined. */
  leavePresence(topic: string): Promise<void> {
    return this[kContext].leavePresence(this, topic);
  }

  /**
   * Incoming messages, in order, as an Observable that completes when the connection closes
   * (at once if it already has). Messages are emitted after `onMessage()` saw them.
   */
  get messages$(): Observable<WebSocketMessage> {
    if (this[kClosed]) return EMPTY;
    return (this.streams().messages ??= new Subject()).asObservable();
  }

  /** Emits once, with the close code and reason, when the connection has closed (replayed if it already has). */
  get closed$(): Observable<WebSocketCloseEvent> {
    const closed = this[kClosed];
    if (closed) return of(closed);
    return (this.streams().closed ??= new Subject()).asObservable();
  }

  private streams(): Streams {
    return (this[kStreams] ??= {});
  }

  private count(data: WebSocketMessage): void {
    const counters = this[kContext].counters;
    counters.messagesOut++;
    counters.bytesOut += data.length;
  }

  /** Only a connection with something queued can exceed the limit: the fast path measures nothing. */
  private exceedsBackpressure(socket: WebSocket, data: WebSocketMessage): boolean {
    const queued = socket.bufferedAmount;
    if (queued === 0) return false;
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    return queued + size > this[kContext].options.maxBackpressure;
  }

  private refuseClosedSend(): false {
    const context = this[kContext];
    context.counters.sentAfterClose++;
    if (context.options.sendAfterClose === 'ignore') return false;
    throw new WebSocketClosedError(sendAfterCloseMessage(this.path, this.id));
  }

  private applyBackpressure(): false {
    const context = this[kContext];
    context.counters.dropped++;
    if (context.options.backpressure === 'close') {
      this.close(WebSocketCloseCode.POLICY_VIOLATION, 'backpressure limit');
    } else if (this.onDrain !== undefined) {
      this[kDrainPending] = true;
    }
    return false;
  }

  /** One write callback per connection (not per message): reports `onDrain` once the queue is empty. */
  private createDrainCallback(): (error?: Error | null) => void {
    return (error) => {
      if (error || !this[kDrainPending] || this[kSocket].bufferedAmount !== 0) return;
      this[kDrainPending] = false;
      this[kContext].runHook(this, this.onDrain);
    };
  }
}

const EMPTY_TOPICS: ReadonlySet<string> = new Set();

/** What `onClose` gets after this server dropped the connection without a close frame. */
const DROPPED: WebSocketCloseEvent = Object.freeze({ code: 1006, reason: '' });

type SendOptions = { binary: boolean };
const TEXT: SendOptions = { binary: false };
const BINARY: SendOptions = { binary: true };

/**
 * Close codes a server may send (RFC 6455 7.4): 1000, 1001, 1003, 1007-1014 except 1010 (which
 * only a client sends), and the application range 3000-4999.
 */
export function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return (
    code === 1000 ||
    code === 1001 ||
    code === 1003 ||
    (code >= 1007 && code <= 1014 && code !== 1010)
  );
}

function assertSendableClose(code: number, reason: string): void {
  if (!isSendableCloseCode(code)) throw new InvalidCloseCodeError(invalidCloseCodeMessage(code));
  if (reason.length > 30) {
    const bytes = Buffer.byteLength(reason);
    if (bytes > 123) throw new InvalidCloseCodeError(closeReasonTooLongMessage(bytes));
  }
}
