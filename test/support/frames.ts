import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { handshakeRequest, parseResponse, type RawResponse } from './raw-http.js';

/** RFC 6455 opcodes. */
export const OP = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** One frame to encode. Client frames are masked unless `mask: false`. */
export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  /** The RSV1-3 bits, as a 3-bit number (4 = RSV1). */
  rsv?: number;
  mask?: boolean;
}

/** A frame as the server sent it. */
export interface ReceivedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  payload: Buffer;
}

/**
 * Encodes a frame by hand (the client side of RFC 6455 5.2): 7-bit, 16-bit or 64-bit length as the
 * payload needs, and a random masking key applied to the payload when masked.
 */
export function encodeFrame(spec: FrameSpec): Buffer {
  const payload =
    typeof spec.payload === 'string'
      ? Buffer.from(spec.payload)
      : (spec.payload ?? Buffer.alloc(0));
  const masked = spec.mask ?? true;
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length <= 0xffff ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
  head[0] = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode;
  head[1] = (masked ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(length, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!masked) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  key.copy(head, 2 + lengthBytes);
  const body = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) body[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([head, body]);
}

/** The payload of a close frame: a 2-byte code and a reason. */
export function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason) : reason]);
}

/** Shorthands for the frames the suites send most. */
export const frames = {
  text: (data: string | Buffer, fin = true) => encodeFrame({ opcode: OP.text, payload: data, fin }),
  binary: (data: Buffer, fin = true) => encodeFrame({ opcode: OP.binary, payload: data, fin }),
  continuation: (data: string | Buffer, fin = true) =>
    encodeFrame({ opcode: OP.continuation, payload: data, fin }),
  ping: (data: string | Buffer = '') => encodeFrame({ opcode: OP.ping, payload: data }),
  close: (code?: number, reason: Buffer | string = '') =>
    encodeFrame({
      opcode: OP.close,
      payload: code === undefined ? Buffer.alloc(0) : closePayload(code, reason),
    }),
};

/** Parses as many complete server (unmasked) frames as `buffer` holds; returns them and the rest. */
export function decodeFrames(buffer: Buffer): { frames: ReceivedFrame[]; rest: Buffer } {
  const out: ReceivedFrame[] = [];
  let offset = 0;
  while (buffer.length - offset >= 2) {
    const b0 = buffer[offset];
    const b1 = buffer[offset + 1];
    let length = b1 & 0x7f;
    let at = offset + 2;
    if (length === 126) {
      if (buffer.length < at + 2) break;
      length = buffer.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      if (buffer.length < at + 8) break;
      length = Number(buffer.readBigUInt64BE(at));
      at += 8;
    }
    if (b1 & 0x80) at += 4; // a server must not mask, but skip a key rather than misparse
    if (buffer.length < at + length) break;
    out.push({
      fin: (b0 & 0x80) !== 0,
      rsv: (b0 >> 4) & 0x7,
      opcode: b0 & 0x0f,
      payload: buffer.subarray(at, at + length),
    });
    offset = at + length;
  }
  return { frames: out, rest: buffer.subarray(offset) };
}

/** How a raw connection ended: the close frame the server sent (if any) and whether TCP closed. */
export interface RawCloseResult {
  code: number | undefined;
  reason: string;
  /** The frames (other than close) that arrived before the close frame. */
  before: ReceivedFrame[];
  /** The server ended the TCP connection (FIN) or it was otherwise closed. */
  tcpClosed: boolean;
}

/**
 * A WebSocket client over a raw TCP socket: the handshake is written by hand, frames are encoded by
 * hand (`encodeFrame`), and the server's frames are decoded as they arrive.
 */
export class RawWebSocket {
  readonly frames: ReceivedFrame[] = [];
  tcpClosed = false;
  private buffer: Buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(
    readonly socket: Socket,
    readonly response: RawResponse,
  ) {}

  /** Opens a TCP connection, performs the handshake and resolves once a `101` came back. */
  static async open(
    port: number,
    path: string,
    overrides: Record<string, string | null> = {},
  ): Promise<RawWebSocket> {
    const socket = netConnect(port, '127.0.0.1');
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    const { response, rest } = await readResponseHead(socket, handshakeRequest(path, overrides));
    if (response.status !== 101) {
      socket.destroy();
      throw new Error(`handshake answered ${response.status}: ${response.body}`);
    }
    const client = new RawWebSocket(socket, response);
    client.onData(rest);
    socket.on('data', (chunk: Buffer) => client.onData(chunk));
    socket.on('close', () => {
      client.tcpClosed = true;
      client.wake();
    });
    return client;
  }

  /** Writes raw bytes (one or more encoded frames, or parts of them). */
  write(bytes: Buffer | Buffer[]): void {
    this.socket.write(Array.isArray(bytes) ? Buffer.concat(bytes) : bytes);
  }

  /** The next frame from the server (rejects after `timeoutMs` or when TCP closed first). */
  async nextFrame(timeoutMs = 5000): Promise<ReceivedFrame> {
    await this.waitFor(() => this.frames.length > 0 || this.tcpClosed, timeoutMs, 'a frame');
    const frame = this.frames.shift();
    if (!frame) throw new Error('connection closed before a frame arrived');
    return frame;
  }

  /**
   * Reads frames until the server's close frame, answers it as a client must (echoing its code),
   * and waits until the server closed the TCP connection.
   */
  async expectClose(timeoutMs = 5000): Promise<RawCloseResult> {
    const before: ReceivedFrame[] = [];
    for (;;) {
      await this.waitFor(() => this.frames.length > 0 || this.tcpClosed, timeoutMs, 'close');
      const frame = this.frames.shift();
      if (!frame) return { code: undefined, reason: '', before, tcpClosed: this.tcpClosed };
      if (frame.opcode !== OP.close) {
        before.push(frame);
        continue;
      }
      const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined;
      if (!this.socket.destroyed) this.socket.write(frames.close(code ?? 1000));
      await this.waitFor(() => this.tcpClosed, timeoutMs, 'the TCP close').catch(() => undefined);
      return {
        code,
        reason: frame.payload.subarray(2).toString(),
        before,
        tcpClosed: this.tcpClosed,
      };
    }
  }

  /** Text of the next data frame (which must be a complete text frame). */
  async nextText(timeoutMs = 5000): Promise<string> {
    const frame = await this.nextFrame(timeoutMs);
    if (frame.opcode !== OP.text || !frame.fin)
      throw new Error(`expected a text frame, got opcode ${frame.opcode}`);
    return frame.payload.toString();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const { frames: parsed, rest } = decodeFrames(this.buffer);
    this.buffer = Buffer.from(rest);
    if (parsed.length === 0) return;
    for (const frame of parsed) this.frames.push({ ...frame, payload: Buffer.from(frame.payload) });
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }
}

/**
 * One plain HTTP exchange on a fresh connection: resolves with the response (head and
 * `Content-Length` body) without waiting for the connection to close (keep-alive is legitimate).
 */
export async function httpExchange(port: number, request: string): Promise<RawResponse> {
  const socket = netConnect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  try {
    return (await readResponseHead(socket, request)).response;
  } finally {
    socket.destroy();
  }
}

/** Writes `request` and resolves with the response head and any bytes after it. */
function readResponseHead(
  socket: Socket,
  request: string,
  timeoutMs = 5000,
): Promise<{ response: RawResponse; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error('no handshake response')), timeoutMs);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = received.subarray(0, end + 4).toString('latin1');
      const response = parseResponse(head);
      // A rejection has a body (Content-Length); a 101 has none: the rest is frames.
      const bodyLength =
        response.status === 101 ? 0 : Number(response.headers['content-length'] ?? 0);
      if (received.length < end + 4 + bodyLength) return;
      response.body = received.subarray(end + 4, end + 4 + bodyLength).toString();
      finish(undefined, { response, rest: received.subarray(end + 4 + bodyLength) });
    };
    const onClose = () => finish(new Error('closed before a handshake response'));
    function finish(error?: Error, value?: { response: RawResponse; rest: Buffer }) {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve(value!);
    }
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write(request);
  });
}
