import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import {
  describeExpectation,
  describeMessages,
  matches,
  type MessageExpectation,
  type WebSocketTestMessage,
} from './message-expectation.js';

/** How a connection ended: the close code and reason the client saw (1006: no close frame). */
export interface WebSocketCloseInfo {
  code: number;
  reason: string;
}

/** The HTTP response of a refused handshake. */
export interface WebSocketRejection {
  status: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  /** The response body as text. */
  body: string;
}

/** A per-call override of the client's timeout. */
export interface WaitOptions {
  /** How long to wait before failing with a message saying what arrived instead. */
  timeoutMs?: number;
}

/** Something a test is waiting for: the next message, or a matching one. */
interface Waiter {
  what: string;
  expected: MessageExpectation | undefined;
  skipped: WebSocketTestMessage[];
  resolve(message: WebSocketTestMessage): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A real `ws` client connected through `connectWebSocket()`. It records every message from the
 * moment the handshake succeeds, so nothing sent before a test starts waiting is lost; every wait
 * fails after a timeout with what was awaited and what arrived instead.
 */
export class WebSocketTestClient {
  private readonly received: WebSocketTestMessage[] = [];
  private cursor = 0;
  private readonly waiters: Waiter[] = [];
  private closeInfo: WebSocketCloseInfo | undefined;
  private readonly closeListeners: ((info: WebSocketCloseInfo) => void)[] = [];
  private lastError: Error | undefined;

  private rejectionResponse: WebSocketRejection | undefined;
  private readonly handshake: Promise<void>;

  /**
   * Created by `connectWebSocket()` for a `ws` client that is still connecting: its listeners
   * are attached at once, because frames sent right after the 101 arrive before any `await` on
   * the handshake returns.
   */
  constructor(
    /** The underlying `ws` client, for what this class does not cover (ping, raw frames). */
    readonly socket: WebSocket,
    /** The URL it connected to. */
    readonly url: string,
    /** The default timeout of every wait, in milliseconds. */
    readonly timeoutMs: number,
  ) {
    this.handshake = awaitHandshake(socket, url, timeoutMs).then((rejection) => {
      this.rejectionResponse = rejection;
      if (rejection) this.closeInfo = { code: 1006, reason: '' };
    });
    socket.on('message', (data: Buffer, isBinary: boolean) =>
      this.receive(isBinary ? data : data.toString()),
    );
    socket.on('error', (error: Error) => (this.lastError = error));
    socket.once('close', (code: number, reason: Buffer) => {
      if (!this.rejectionResponse) this.onClose({ code, reason: reason.toString() });
    });
  }

  /**
   * Resolves once the handshake settled (open or refused); rejects when no HTTP answer came.
   * @internal
   */
  opened(): Promise<this> {
    return this.handshake.then(() => this);
  }

  /** The response of a refused handshake; `undefined` when the connection opened. */
  get rejection(): WebSocketRejection | undefined {
    return this.rejectionResponse;
  }

  /** Every message received so far, in order: text as `string`, binary as `Buffer`. */
  get messages(): readonly WebSocketTestMessage[] {
    return this.received;
  }

  /** The subprotocol the server selected (`''` when none). */
  get protocol(): string {
    return this.socket.protocol;
  }

  /** Whether the connection is open (messages can be sent). */
  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /**
   * Resolves with the close code and reason once the connection is closed (at once if it is),
   * or fails after the client's timeout.
   */
  get closed(): Promise<WebSocketCloseInfo> {
    return this.waitForClose(this.timeoutMs, 'the connection to close');
  }

  /**
   * Sends a message: a string as text, a Buffer (or other binary view) as binary, and any other
   * value as JSON text. Throws at once if the connection is not open.
   */
  send(data: string | Buffer | ArrayBuffer | ArrayBufferView | object | number | boolean): void {
    if (!this.isOpen) throw new Error(`Cannot send to ${this.url}: ${this.state()}`);
    const payload =
      typeof data === 'string' || ArrayBuffer.isView(data) || data instanceof ArrayBuffer
        ? data
        : JSON.stringify(data);
    // Write errors surface as the close event; the callback keeps them from being thrown here.
    this.socket.send(payload, () => undefined);
  }

  /** The next message not yet taken by `nextMessage()` or `expectMessage()`. */
  nextMessage(options?: WaitOptions): Promise<WebSocketTestMessage> {
    return this.wait('a message', undefined, options);
  }

  /**
   * Waits for a message that matches `expected`, skipping (but keeping in `messages`) the ones
   * that do not, and resolves with it. Fails after the timeout, or at once if the connection
   * closes, listing the messages that arrived instead.
   */
  expectMessage(
    expected: MessageExpectation,
    options?: WaitOptions,
  ): Promise<WebSocketTestMessage> {
    return this.wait(describeExpectation(expected), expected, options);
  }

  /**
   * Closes the connection (default 1000) and resolves with what the client saw once the server
   * answered; terminates the socket and fails if it does not answer within the timeout.
   */
  async close(code = 1000, reason = '', options?: WaitOptions): Promise<WebSocketCloseInfo> {
    if (this.isOpen) this.socket.close(code, reason);
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    try {
      return await this.waitForClose(timeoutMs, `the server to answer the close (${code})`);
    } finally {
      this.socket.terminate();
    }
  }

  /** Destroys the socket at once, without a close handshake. */
  terminate(): void {
    this.socket.terminate();
  }

  /**
   * Asserts that the handshake was refused (with `status`, if given) and resolves with the HTTP
   * response: status, headers and body. Fails, and terminates the connection, if it was accepted.
   */
  async expectRejected(status?: number): Promise<WebSocketRejection> {
    const wanted = status === undefined ? 'refused' : `refused with ${status}`;
    if (!this.rejection) {
      this.socket.terminate();
      throw new Error(
        `Expected the handshake of ${this.url} to be ${wanted}, but it was accepted (101 Switching Protocols)`,
      );
    }
    const { status: actual, statusMessage, body } = this.rejection;
    if (status !== undefined && actual !== status) {
      throw new Error(
        `Expected the handshake of ${this.url} to be ${wanted}, but it was refused with ${actual} ${statusMessage}: ${body || '(no body)'}`,
      );
    }
    return this.rejection;
  }

  private receive(message: WebSocketTestMessage): void {
    this.received.push(message);
    while (this.cursor < this.messages.length && this.waiters.length > 0) {
      this.offer(this.waiters[0], this.messages[this.cursor++]);
    }
  }

  /** Gives a message to the first waiter: it takes it, or skips it when it does not match. */
  private offer(waiter: Waiter, message: WebSocketTestMessage): void {
    if (waiter.expected !== undefined && !matches(message, waiter.expected)) {
      waiter.skipped.push(message);
      return;
    }
    this.waiters.shift();
    clearTimeout(waiter.timer);
    waiter.resolve(message);
  }

  private wait(
    what: string,
    expected: MessageExpectation | undefined,
    options: WaitOptions | undefined,
  ): Promise<WebSocketTestMessage> {
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        what,
        expected,
        skipped: [],
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(this.failure(waiter, `Timed out after ${timeoutMs} ms on ${this.url}`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
      // Messages that arrived before this wait began are offered first, in order.
      while (this.waiters[0] === waiter && this.cursor < this.messages.length) {
        this.offer(waiter, this.messages[this.cursor++]);
      }
      if (this.waiters.includes(waiter) && this.closeInfo) this.failOnClose(waiter);
    });
  }

  private waitForClose(timeoutMs: number, what: string): Promise<WebSocketCloseInfo> {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const unread = this.messages.slice(this.cursor);
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms on ${this.url} awaiting ${what}; it is still ${this.state()}; unread messages: ${describeMessages(unread)}`,
          ),
        );
      }, timeoutMs);
      this.closeListeners.push((info) => {
        clearTimeout(timer);
        resolve(info);
      });
    });
  }

  private onClose(info: WebSocketCloseInfo): void {
    this.closeInfo = info;
    for (const waiter of this.waiters.splice(0)) this.failOnClose(waiter);
    for (const listener of this.closeListeners.splice(0)) listener(info);
  }

  private failOnClose(waiter: Waiter): void {
    this.waiters.splice(this.waiters.indexOf(waiter), 1);
    clearTimeout(waiter.timer);
    waiter.reject(this.failure(waiter, `The connection to ${this.url} ${this.state()} while`));
  }

  private failure(waiter: Waiter, what: string): Error {
    return new Error(
      `${what} awaiting ${waiter.what}; received instead: ${describeMessages(waiter.skipped)}`,
    );
  }

  private state(): string {
    if (this.rejection) return `handshake was refused with ${this.rejection.status}`;
    if (this.closeInfo) {
      const { code, reason } = this.closeInfo;
      const error = this.lastError ? ` (${this.lastError.message})` : '';
      return `closed with ${code}${reason ? ` "${reason}"` : ''}${error}`;
    }
    return this.socket.readyState === WebSocket.CLOSING ? 'closing' : 'open';
  }
}

/** Resolves `undefined` once open, or the HTTP response of a refused handshake. */
function awaitHandshake(
  socket: WebSocket,
  url: string,
  timeoutMs: number,
): Promise<WebSocketRejection | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`Timed out after ${timeoutMs} ms awaiting the handshake of ${url}`));
    }, timeoutMs);
    const settle = (error: Error | undefined, rejection?: WebSocketRejection) => {
      clearTimeout(timer); // onError stays attached: a later 'error' must not crash the test run
      if (error) reject(error);
      else resolve(rejection);
    };
    const onError = (error: Error) =>
      settle(new Error(`Could not connect to ${url}: ${error.message}`, { cause: error }));
    socket.once('open', () => settle(undefined));
    socket.on('error', onError);
    // With a listener here ws leaves the response to us instead of failing with an error.
    socket.once('unexpected-response', (request, response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('error', onError);
      response.once('end', () => {
        request.destroy();
        settle(undefined, {
          status: response.statusCode ?? 0,
          statusMessage: response.statusMessage ?? '',
          headers: response.headers,
          body: Buffer.concat(chunks).toString(),
        });
      });
    });
  });
}
