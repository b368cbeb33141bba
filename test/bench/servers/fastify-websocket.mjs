// The Fastify peer: @fastify/websocket 11 on Fastify 5, one echo route, written as its user would.
// Usage: node fastify-websocket.mjs [guard|middleware|nest]
//   guard:      one async `preValidation` check on the route, like an auth lookup
//   middleware: one trivial `onRequest` hook, `(request, reply, done) => done()`
//   nest:       on the Fastify instance of an empty Nest app (`@nestjs/platform-fastify`, whose
//               adapter adds its own `onRequest` hooks and middie), as a Nest user would
//   spin:       a control: the route handler busy-waits 60 µs before the upgrade, and nothing
//               else changes, to show what a slower handshake does to the cost of the same
//               socket work (docs/performance.md, "Where a handshake's time goes")
// The upgrade request goes through Fastify's router and hooks; the 101 is written by ws's
// `handleUpgrade` once they have run.
import websocket from '@fastify/websocket';
import Fastify from 'fastify';
import { serveBench } from './control.mjs';

const variant = process.argv[2];
const SPIN_NS = 60_000n;
const nest = variant === 'nest' ? await createNestApp() : undefined;
const app = nest ? nest.getHttpAdapter().getInstance() : Fastify({ logger: false });
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
  variant === 'spin'
    ? (socket) => {
        const end = process.hrtime.bigint() + SPIN_NS;
        while (process.hrtime.bigint() < end);
        socket.on('message', echo);
      }
    : (socket) => socket.on('message', echo),
);

if (nest) await nest.listen(0, '127.0.0.1');
else await app.listen({ port: 0, host: '127.0.0.1' });
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

async function createNestApp() {
  const [{ Module }, { NestFactory }, { FastifyAdapter }, { decorateClass }] = await Promise.all([
    import('@nestjs/common'),
    import('@nestjs/core'),
    import('@nestjs/platform-fastify'),
    import('./decorate.mjs'),
  ]);
  class EmptyModule {}
  decorateClass(EmptyModule, [Module({})]);
  return NestFactory.create(EmptyModule, new FastifyAdapter(), { logger: false });
}
