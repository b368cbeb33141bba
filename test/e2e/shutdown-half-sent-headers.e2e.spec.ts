import { Controller, Module } from '@nestjs/common';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EchoHandler, WebSocketRoute, WsModule, WsServer } from '../../src/index.js';
import { portFor, SERVERS, startApp, type ServerName } from '../support/app.js';
import { shuttingDownReason } from '../../src/handshake.messages.js';

@Controller()
class EchoController {
  @WebSocketRoute('echo', EchoHandler)
  echo() {}
}

function appModule(server: ServerName) {
  @Module({
    imports: [WsModule.forRoot({ heartbeatMs: 0, handshakeTimeoutMs: 2000, ...portFor(server) })],
    controllers: [EchoController],
  })
  class HalfSentModule {}
  return HalfSentModule;
}

/** A client that sent part of its handshake's headers and then waits (a slow link, a slowloris). */
function halfSentHandshake(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
      // Let the server's parser see the partial request before shutdown starts.
      setTimeout(() => resolve(socket), 100);
    });
    socket.once('error', reject);
  });
}

// Node's server.close() stops its headersTimeout check and then waits for a request still
// arriving: shutdown answers them 503 "server is shutting down" at once, on the app's server
// (Nest's `forceCloseConnections` is not needed) and on the standalone port.
describe.each(SERVERS)(
  'shutdown with a handshake whose headers are still arriving (%s)',
  (server) => {
    it('app.close() does not wait for the rest of the headers, and the socket is closed', async () => {
      const { app } = await startApp(
        { imports: [appModule(server)] },
        undefined,
        server === 'standalone' ? 'express' : server,
      );
      const port = Number(new URL(app.get(WsServer).url('/')).port);
      const socket = await halfSentHandshake(port);
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));

      const started = Date.now();
      await app.close();
      await closed;
      // The 2 s handshakeTimeoutMs (Node's 408) is not what ended it: shutdown did, at once.
      expect(Date.now() - started).toBeLessThan(1000);
      expect(answer).toMatch(/^HTTP\/1\.1 503 /);
      expect(answer).toMatch(/\r\nRetry-After: 5\r\n/i);
      expect(answer).toContain(shuttingDownReason);
    });
  },
);
