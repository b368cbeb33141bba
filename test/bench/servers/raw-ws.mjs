// The baseline: plain `ws` (noServer + handleUpgrade) on node:http, written as a ws user would.
// Usage: node raw-ws.mjs [guard|nest]
//   guard: one async check before the upgrade, like an auth lookup
//   nest: an empty Nest app (Express) boots in the same process first, on a port of its own, so
//         the same ws path runs with a Nest app's heap beside it
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { serveBench } from './control.mjs';

const guarded = process.argv[2] === 'guard';
// Imported only in that mode: loading Nest alone grows the heap past what raw ws has.
if (process.argv[2] === 'nest') {
  const [{ Module }, { NestFactory }, { decorateClass }] = await Promise.all([
    import('@nestjs/common'),
    import('@nestjs/core'),
    import('./decorate.mjs'),
  ]);
  class EmptyModule {}
  decorateClass(EmptyModule, [Module({})]);
  const app = await NestFactory.create(EmptyModule, { logger: false });
  await app.listen(0, '127.0.0.1');
}
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

function echo(data, isBinary) {
  this.send(data, { binary: isBinary });
}

function accept(request, socket, head) {
  wss.handleUpgrade(request, socket, head, (ws) => ws.on('message', echo));
}

async function allow() {
  await Promise.resolve();
  return true;
}

const server = createServer((_request, response) => {
  response.writeHead(426).end();
});
server.on('upgrade', (request, socket, head) => {
  if (request.url !== '/echo') {
    socket.destroy();
    return;
  }
  if (!guarded) {
    accept(request, socket, head);
    return;
  }
  void allow().then((ok) => (ok ? accept(request, socket, head) : socket.destroy()));
});
server.listen(0, '127.0.0.1', () => {
  serveBench({
    port: server.address().port,
    fanOut: {
      loop: (data) => {
        let sent = 0;
        for (const ws of wss.clients) {
          ws.send(data);
          sent++;
        }
        return sent;
      },
    },
  });
});
