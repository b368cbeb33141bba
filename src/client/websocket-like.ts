/**
 * What the client needs of a WebSocket: the WHATWG API that browsers, Node 22's global
 * `WebSocket` and `ws` all have. Declared here rather than taken from the DOM library, so the
 * client compiles with Node's types and with the DOM's alike.
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed (WHATWG). */
  readonly readyState: number;
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: WebSocketEventType, listener: (event: object) => void): void;
  removeEventListener(type: WebSocketEventType, listener: (event: object) => void): void;
}

/** The events the client listens to. */
export type WebSocketEventType = 'open' | 'message' | 'error' | 'close';

/** A WebSocket class: the global `WebSocket`, or `ws`'s `WebSocket` in Node 20. */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => WebSocketLike;

/** What the client reads of a close event (WHATWG `CloseEvent`). */
export interface CloseEventLike {
  code: number;
  reason: string;
}
