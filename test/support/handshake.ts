import { connect as netConnect, type Socket } from 'node:net';
import { WebSocket, type ClientOptions } from 'ws';
import { nextMessage } from './app.js';
import { parseResponse, type RawResponse } from './raw-http.js';

/** What a refused `ws` client saw: status, headers, body, and whether the server closed the socket. */
export interface Refusal {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  closedByServer: boolean;
}

/**
 * Opens a real `ws` client that must be refused: resolves with the HTTP answer once the server has
 * closed the connection; rejects if the handshake succeeds (a `101`) or the server never closes.
 */
export function refused(
  url: string,
  protocols?: string | string[],
  options?: ClientOptions,
  timeoutMs = 5000,
): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url, protocols, options);
    const timer = setTimeout(() => {
      client.terminate();
      reject(new Error(`no refusal with a closed socket within ${timeoutMs} ms`));
    }, timeoutMs);
    client.once('open', () => {
      clearTimeout(timer);
      client.terminate();
      reject(new Error('the handshake succeeded (101)'));
    });
    client.on('error', () => undefined);
    client.once('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      // The server must end the connection itself after the response.
      response.socket.once('close', () => {
        clearTimeout(timer);
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString(),
          closedByServer: true,
        });
      });
    });
  });
}

/** A raw TCP connection whose opening handshake succeeded: the `101` response and the socket after it. */
export interface RawConnection {
  response: RawResponse;
  socket: Socket;
  /** Server frames after the handshake, parsed as they arrive (server frames are unmasked). */
  frames: ServerFrame[];
}

export interface ServerFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  payload: Buffer;
}

/** Writes `request` and resolves once the response head arrived; then collects server frames. */
export function openRaw(port: number, request: string, timeoutMs = 5000): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    let buffered: Buffer = Buffer.alloc(0);
    let connection: RawConnection | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no response head within ' + timeoutMs + ' ms'));
    }, timeoutMs);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!connection) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        clearTimeout(timer);
        connection = {
          response: parseResponse(buffered.subarray(0, end + 4).toString('latin1')),
          socket,
          frames: [],
        };
        buffered = buffered.subarray(end + 4);
        resolve(connection);
      }
      buffered = readFrames(buffered, connection.frames);
    });
    socket.write(request);
  });
}

function readFrames(buffer: Buffer, into: ServerFrame[]): Buffer {
  while (buffer.length >= 2) {
    let length = buffer[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) break;
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) break;
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
    }
    if (buffer.length < offset + length) break;
    into.push({
      fin: (buffer[0] & 0x80) !== 0,
      rsv1: (buffer[0] & 0x40) !== 0,
      opcode: buffer[0] & 0x0f,
      payload: buffer.subarray(offset, offset + length),
    });
    buffer = buffer.subarray(offset + length);
  }
  return buffer;
}

/**
 * Opens a `ws` client and resolves with it and its first message, listened to before the open: a
 * message the server sends from `onOpen()` can arrive in the same packet as the `101`.
 */
export async function openWithGreeting(
  url: string,
  protocols?: string | string[],
  options?: ClientOptions,
): Promise<{ client: WebSocket; greeting: string | Buffer }> {
  const client = new WebSocket(url, protocols, options);
  const greeting = nextMessage(client);
  try {
    await new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
  } catch (error) {
    greeting.catch(() => undefined);
    throw error;
  }
  return { client, greeting: await greeting };
}
