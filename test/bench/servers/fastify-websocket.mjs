// The Fastify peer: @fastify/websocket 11 on Fastify 5, one echo route, written as its user would.
// Usage: node fastify-websocket.mjs [guard|middleware]
//   guard:      one async `preValidation` check on the route, like an auth lookup
//   middleware: one trivial `onRequest` hook, `(request, reply, done) => done()`
// The upgrade request goes through Fastify's router and hooks; the 101 is written by ws's
// `handleUpgrade` once they have run.
import websocket from '@fastify/websocket';
import Fastify from 'fastify';
import { serveBench } from './control.mjs';

const variant = process.argv[2];
const app = Fastify({ logger: false });
await app.register(websocket);

function echo(data, isBinary) {
  this.send(data, { binary: isBinary });
}

async function allow() {
  await Promise.resolve();
}

if (variant === 'middleware') app.addHook('onRequest', (_request, _reply, done) => done());
app.get(
  '/echo',
  { websocket: true, ...(variant === 'guard' ? { preValidation: allow } : {}) },
  (socket) => socket.on('message', echo),
);

await app.listen({ port: 0, host: '127.0.0.1' });
serveBench({
  port: app.server.address().port,
  fanOut: {
    loop: (data) => {
      let sent = 0;
      for (const ws of app.websocketServer.clients) {
        ws.send(data);
        sent++;
      }
      return sent;
    },
  },
});
