import type { StreamPosition } from '../interfaces/position.interface.js';
import { SINCE_PARAM, decodeEnvelope, type StreamEnvelope } from '../resume.wire.js';
import { attemptUrl, type UrlSource } from './attempt-url.js';
import { DEFAULT_BACKOFF, backoffDelay } from './backoff.js';
import {
  FinalCloseEvent,
  LostEvent,
  ReconnectingEvent,
  StreamMessageEvent,
  type CloseCause,
  type CloseInfo,
  type ReconnectingWebSocketEventMap,
} from './client.events.js';
import { CLIENT_DEFAULTS, type ReconnectingWebSocketOptions } from './client.options.js';
import { closeDecision, isFinalRefusal, isUnreachable, refusedStatus } from './close-decision.js';
import type {
  CloseEventLike,
  WebSocketConstructor,
  WebSocketEventType,
  WebSocketLike,
} from './websocket-like.js';

/**
 * `'connecting'` an attempt is under way; `'open'` connected; `'reconnecting'` waiting for the
 * next attempt; `'closed'` stopped for good (after the `close` event).
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** What `send()` takes: what a WebSocket sends. */
export type SendData = Parameters<WebSocketLike['send']>[0];

type Listener<K extends keyof ReconnectingWebSocketEventMap> =
  | ((event: ReconnectingWebSocketEventMap[K]) => void)
  | { handleEvent(event: ReconnectingWebSocketEventMap[K]): void };

type BaseListener = Parameters<EventTarget['addEventListener']>[1];

type ListenerOptions = boolean | { once?: boolean; passive?: boolean; signal?: AbortSignal };

/** The browser's globals the client uses when they are there (never in Node). */
const env = globalThis as unknown as {
  WebSocket?: WebSocketConstructor;
  location?: { href: string };
  addEventListener?: (type: string, listener: () => void) => void;
  removeEventListener?: (type: string, listener: () => void) => void;
  document?: {
    visibilityState: string;
    addEventListener(type: string, listener: () => void): void;
    removeEventListener(type: string, listener: () => void): void;
  };
};

/**
 * A WebSocket that reconnects and resumes its topics: exponential back-off with full jitter, the
 * library's close-code convention (`isReconnectCloseCode`), the last position seen per topic sent
 * back on every reconnect (`?since=`), an attempt at once when the browser comes back online or
 * visible. The client half of Centrifugo's recovery, for any server that follows the convention
 * (`streamEnvelope`, `subscribedEnvelope` and `parseSince` on the server). An `EventTarget`:
 * `open`, `message`, `reconnecting`, `lost`, `close` (final).
 *
 * @example
 * const socket = new ReconnectingWebSocket('/chat?room=lobby', { protocols: 'chat.v1' });
 * socket.addEventListener('message', (event) => show(JSON.parse(event.data as string)));
 * socket.addEventListener('lost', () => reloadRoom());
 * @throws TypeError when there is no global `WebSocket` and no `WebSocket` option.
 */
export class ReconnectingWebSocket extends EventTarget {
  #state: ConnectionState = 'connecting';
  #socket: WebSocketLike | undefined;
  #detach: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #refused = 0;
  #refusedSince = 0;
  #openedAt = 0;
  #queue: SendData[] = [];
  readonly #positions = new Map<string, StreamPosition>();
  readonly #url: UrlSource;
  readonly #WebSocket: WebSocketConstructor;
  readonly #options: ReconnectingWebSocketOptions & typeof CLIENT_DEFAULTS;
  readonly #backoff: typeof DEFAULT_BACKOFF;

  constructor(url: UrlSource, options: ReconnectingWebSocketOptions = {}) {
    super();
    const WebSocket = options.WebSocket ?? env.WebSocket;
    if (!WebSocket) {
      throw new TypeError(
        "No global WebSocket (Node 20): pass one, e.g. `import { WebSocket } from 'ws'` and { WebSocket }",
      );
    }
    this.#WebSocket = WebSocket;
    this.#url = url;
    this.#options = { ...CLIENT_DEFAULTS, ...options };
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    env.addEventListener?.('online', this.#wake);
    env.document?.addEventListener('visibilitychange', this.#wake);
    void this.#connect();
  }

  /** Where the connection is: `'connecting'`, `'open'`, `'reconnecting'` or `'closed'`. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The last position seen per topic: what the next reconnect sends. */
  get positions(): ReadonlyMap<string, StreamPosition> {
    return this.#positions;
  }

  /**
   * Sends `data` if connected and returns true. Not connected: queues it if `queue` allows
   * (sent on the next `open`) and returns true, else returns false (nothing is sent).
   */
  send(data: SendData): boolean {
    if (this.#state === 'open') this.#socket!.send(data);
    else if (this.#state !== 'closed' && this.#queue.length < this.#options.queue)
      this.#queue.push(data);
    else return false;
    return true;
  }

  /** Closes for good (`code` default 1000): no reconnect; fires `close` with `cause: 'client'`. */
  close(code = 1000, reason = ''): void {
    if (this.#state === 'closed') return;
    // What a browser's close() accepts (WHATWG), checked before anything changes: a WebSocket
    // that threw here would leave the client detached yet not closed.
    if (code !== 1000 && (code < 3000 || code > 4999 || !Number.isInteger(code))) {
      throw new RangeError(`close code must be 1000 or 3000-4999, got ${code}`);
    }
    if (new TextEncoder().encode(reason).length > 123) {
      throw new RangeError('close reason must be at most 123 bytes of UTF-8');
    }
    const socket = this.#socket;
    this.#detach?.();
    socket?.close(code, reason);
    this.#stop({ code, reason }, 'client');
  }

  override addEventListener<K extends keyof ReconnectingWebSocketEventMap>(
    type: K,
    listener: Listener<K> | null,
    options?: ListenerOptions,
  ): void {
    super.addEventListener(type, listener as BaseListener, options);
  }

  override removeEventListener<K extends keyof ReconnectingWebSocketEventMap>(
    type: K,
    listener: Listener<K> | null,
    options?: boolean | { capture?: boolean },
  ): void {
    super.removeEventListener(type, listener as BaseListener, options);
  }

  /** Online again, or visible again: the waiting attempt starts now. */
  readonly #wake = (): void => {
    if (this.#state !== 'reconnecting' || env.document?.visibilityState === 'hidden') return;
    clearTimeout(this.#timer);
    void this.#connect();
  };

  async #connect(): Promise<void> {
    this.#state = 'connecting';
    let socket: WebSocketLike;
    try {
      const url = await attemptUrl(
        this.#url,
        this.#positions,
        this.#options.encodeSince,
        env.location?.href,
      );
      if (this.#state !== 'connecting') return; // closed meanwhile
      if (!this.#options.encodeSince) this.#forgetUnsent(url);
      if (this.#state !== 'connecting') return; // closed on `lost`
      socket = new this.#WebSocket(url, this.#options.protocols);
    } catch (error) {
      // The URL function failed, or the WebSocket refused the URL: tried again after the delay.
      return this.#closed({ code: 1006, reason: String(error) }, false, true);
    }
    let opened = false;
    let status: number | undefined;
    let unreachable = false;
    const timeout = setTimeout(() => {
      detach();
      socket.close();
      this.#closed({ code: 1006, reason: 'connect timeout' }, false, true);
    }, this.#options.connectTimeoutMs);
    const onOpen = () => {
      opened = true;
      clearTimeout(timeout);
      this.#opened();
    };
    const onMessage = (event: { data: unknown }) => this.#receive(event.data);
    const onError = (event: unknown) => {
      status ??= refusedStatus(event);
      unreachable ||= isUnreachable(event);
    };
    const onClose = (event: CloseEventLike) => {
      detach();
      if (status !== undefined && !opened && isFinalRefusal(status)) {
        return this.#stop({ code: event.code, reason: `handshake refused: ${status}` }, 'refused');
      }
      this.#closed({ code: event.code, reason: event.reason }, opened, unreachable);
    };
    const listeners = [
      ['open', onOpen],
      ['message', onMessage],
      ['error', onError],
      ['close', onClose],
    ] as [WebSocketEventType, (event: object) => void][];
    const detach = () => {
      clearTimeout(timeout);
      for (const [type, listener] of listeners) socket.removeEventListener(type, listener);
      socket.addEventListener('error', ignore); // `ws` throws an error event nobody listens to
      this.#socket = this.#detach = undefined;
    };
    for (const [type, listener] of listeners) socket.addEventListener(type, listener);
    this.#socket = socket;
    this.#detach = detach;
  }

  #opened(): void {
    this.#state = 'open';
    this.#openedAt = Date.now();
    this.#refused = this.#refusedSince = 0;
    for (const data of this.#queue.splice(0)) this.#socket!.send(data);
    this.dispatchEvent(new Event('open'));
  }

  #receive(data: unknown): void {
    const envelope = (this.#options.decode ?? decodeText)(data);
    if (!envelope) return void this.dispatchEvent(new StreamMessageEvent(data));
    const { topic, position } = envelope;
    const known = this.#positions.get(topic);
    // At or before the last position seen of the same stream: seen already, never a step back.
    const newer = known?.epoch !== position.epoch || position.offset > known.offset;
    if (newer) this.#positions.set(topic, position);
    if (envelope.data === undefined) {
      if (envelope.recovered === false) this.#lose(topic, envelope.reason ?? 'unknown');
    } else if (newer) {
      this.dispatchEvent(new StreamMessageEvent(envelope.data, topic, position));
    }
  }

  /**
   * A connection ended: decide from its close code whether, and how, to come back. `notRefused`:
   * the attempt failed on our side (connect timeout, URL) or the server was out of reach, not a
   * close by the server.
   */
  #closed(close: CloseInfo, opened: boolean, notRefused = false): void {
    if (this.#state === 'closed') return;
    if (!opened && !notRefused && this.#refusedEnough()) return this.#stop(close, 'refused');
    // The back-off starts again only after a connection that lasted: a server that accepts and
    // closes at once (1013, try again later) still gets longer and longer delays.
    if (opened && Date.now() - this.#openedAt >= this.#options.stableMs) this.#attempt = 0;
    const decision = opened ? closeDecision(close.code) : 'resume';
    if (decision === 'stop') return this.#stop(close, 'server');
    this.#state = 'reconnecting';
    if (decision === 'reload') {
      const topics = [...this.#positions.keys()];
      this.#positions.clear();
      if (topics.length === 0) this.#lose(undefined, close.reason);
      for (const topic of topics) this.#lose(topic, close.reason);
      if (this.state === 'closed') return; // the app closed on `lost`
    }
    const attempt = ++this.#attempt;
    if (attempt > this.#options.maxAttempts) return this.#stop(close, 'attempts');
    const delayMs = backoffDelay(attempt, this.#backoff);
    this.#timer = setTimeout(() => void this.#connect(), delayMs);
    this.dispatchEvent(new ReconnectingEvent(attempt, delayMs, close));
  }

  /**
   * One more close before `open`: enough to stop once there were `maxRefused` in a row over at
   * least `refusedForMs`, so a server restarting or being deployed (which a browser cannot tell
   * from a refusal) does not make its clients give up.
   */
  #refusedEnough(): boolean {
    const now = Date.now();
    this.#refusedSince ||= now;
    const { maxRefused, refusedForMs } = this.#options;
    return ++this.#refused >= maxRefused && now - this.#refusedSince >= refusedForMs;
  }

  /**
   * The positions the default encoding left out of `url` (too long for a server to take) cannot
   * be resumed: forgotten, and `lost` for each, so that the app reloads those topics.
   */
  #forgetUnsent(url: string): void {
    const sent = new URL(url).searchParams.getAll(SINCE_PARAM).length;
    const unsent = [...this.#positions.keys()].slice(sent);
    for (const topic of unsent) this.#positions.delete(topic);
    for (const topic of unsent) this.#lose(topic, 'too many positions for the URL');
  }

  #lose(topic: string | undefined, reason: string): void {
    if (this.#state !== 'closed') this.dispatchEvent(new LostEvent(topic, reason));
  }

  #stop(close: CloseInfo, cause: CloseCause): void {
    this.#state = 'closed';
    clearTimeout(this.#timer);
    this.#queue = [];
    env.removeEventListener?.('online', this.#wake);
    env.document?.removeEventListener('visibilitychange', this.#wake);
    this.dispatchEvent(new FinalCloseEvent(close.code, close.reason, cause));
  }
}

function ignore(): void {}

function decodeText(data: unknown): StreamEnvelope | undefined {
  return typeof data === 'string' ? decodeEnvelope(data) : undefined;
}
