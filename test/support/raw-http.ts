import { connect as netConnect, type Socket } from 'node:net';

/** What a raw request got back: the status line's code, headers, body, and whether the server closed. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

export const VALID_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A valid opening handshake for `path`, with headers overridden (null removes one). */
export function handshakeRequest(
  path: string,
  overrides: Record<string, string | null> = {},
  requestLine?: string,
): string {
  const headers: Record<string, string | null> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': VALID_KEY,
    'Sec-WebSocket-Version': '13',
    ...overrides,
  };
  let text = (requestLine ?? `GET ${path} HTTP/1.1`) + '\r\n';
  for (const [name, value] of Object.entries(headers))
    if (value !== null) text += `${name}: ${value}\r\n`;
  return text + '\r\n';
}

/**
 * Writes `request` on a fresh TCP connection and reads until the server closes it (or `timeoutMs`).
 * Resolves with the parsed response and whether the server closed the connection.
 */
export function rawRequest(
  port: number,
  request: string | Buffer,
  timeoutMs = 3000,
): Promise<RawResponse & { closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = netConnect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => {
      closedByServer = true;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      if (!raw) {
        reject(new Error(`no response (closed by server: ${closedByServer})`));
        return;
      }
      resolve({ ...parseResponse(raw), closedByServer });
    });
    socket.write(request);
  });
}

/** Every value of header `name` in a raw response head, in order (a header may repeat). */
export function headerValues(raw: string, name: string): string[] {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  return head
    .split('\r\n')
    .slice(1)
    .filter((line) => line.slice(0, line.indexOf(':')).trim().toLowerCase() === name)
    .map((line) => line.slice(line.indexOf(':') + 1).trim());
}

export function parseResponse(raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: end === -1 ? '' : raw.slice(end + 4),
    raw,
  };
}
