import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** A refused handshake: the HTTP status, a short reason, and any headers the RFC asks for. */
export class HandshakeRejection {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly headers: Record<string, string> = {},
    /** The JSON body; defaults to Nest's shape `{ statusCode, message, error }`. */
    readonly body?: unknown,
  ) {}
}

/**
 * Answers a refused upgrade on the raw socket and closes it: the response is written, then the
 * connection is ended and destroyed, so neither a `101` nor a hang can follow.
 */
export function writeRejection(socket: Duplex, rejection: HandshakeRejection): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const statusText = STATUS_CODES[rejection.status] ?? 'Error';
  const body = JSON.stringify(
    rejection.body ?? {
      statusCode: rejection.status,
      message: rejection.message,
      error: statusText,
    },
  );
  let head = `HTTP/1.1 ${rejection.status} ${statusText}\r\nConnection: close\r\n`;
  for (const [name, value] of Object.entries(rejection.headers)) head += `${name}: ${value}\r\n`;
  head += `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(head + body);
}
