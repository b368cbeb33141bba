import type { HttpServer } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { kPendingHandshake } from '../ws.constants.js';
import { connectionNotUpgradeReason } from '../handshake.messages.js';
import { hasToken } from './handshake.validator.js';

function isPendingHandshake(request: IncomingMessage): boolean {
  return (request as IncomingMessage & Record<symbol, unknown>)[kPendingHandshake] !== undefined;
}

interface PlainAnswer {
  status: number;
  headers: Record<string, string>;
  body: { statusCode: number; message: string; error: string };
}

/**
 * The answer to a plain HTTP request (no upgrade) for a WebSocket path: `426 Upgrade Required`
 * with `Upgrade: websocket` (RFC 6455 4.2.2, RFC 9110 15.5.22), or `400` when `Upgrade: websocket`
 * came without `Connection: Upgrade` (such a request never reaches the `upgrade` event).
 * "close": the answer ends the exchange, as every refused handshake does.
 */
function plainAnswer(request: IncomingMessage): PlainAnswer {
  if (hasToken(request.headers.upgrade, 'websocket')) {
    return {
      status: 400,
      headers: { Connection: 'close' },
      body: {
        statusCode: 400,
        message: connectionNotUpgradeReason,
        error: 'Bad Request',
      },
    };
  }
  return {
    status: 426,
    headers: { Connection: 'Upgrade, close', Upgrade: 'websocket' },
    body: {
      statusCode: 426,
      message: 'This path serves WebSocket connections only',
      error: 'Upgrade Required',
    },
  };
}

/** Answers a plain request on a server of our own (the standalone port). */
export function answerPlainRequest(request: IncomingMessage, response: ServerResponse): void {
  const { status, headers, body } = plainAnswer(request);
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

/**
 * Registers the plain-request answer as GET routes of the app, after the app's own routes and
 * before its 404 handler: an HTTP route of the app on the same path keeps serving it (Express
 * matches in order; Fastify refuses a second route, which is skipped here).
 */
export function servePlainRequests(adapter: HttpServer, paths: Iterable<string>): void {
  const answer = (request: IncomingMessage, response: unknown, next?: Function): void => {
    // A handshake no WebSocket route took (e.g. an unknown version) is the app's 404 (Express).
    if (isPendingHandshake(request) && next) {
      next();
      return;
    }
    const { status, headers, body } = plainAnswer(request);
    for (const [name, value] of Object.entries(headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, body, status);
  };
  for (const path of paths) {
    try {
      adapter.get(path, answer);
    } catch (error) {
      if ((error as { code?: string }).code !== 'FST_ERR_DUPLICATED_ROUTE') throw error;
    }
  }
}
