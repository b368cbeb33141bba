// The Express peer: express-ws 5 on Express 5, one echo route, written as an express-ws user would.
// Usage: node express-ws.mjs [guard|middleware|nest]
//   guard:      one async route middleware before the handler, like an auth lookup
//   middleware: one trivial app-wide middleware, `app.use((req, res, next) => next())`
//   nest:       on the Express app of an empty Nest app (`@nestjs/platform-express`), as a Nest
//               user who picks express-ws would write it: the route is added before `listen()`
// express-ws completes the upgrade (its own ws 7 `handleUpgrade`) before the Express stack runs,
// then runs the app with a dummy ServerResponse: a rejecting middleware can only close the socket.
import express from 'express';
import expressWs from 'express-ws';
import { serveBench } from './control.mjs';

const variant = process.argv[2];
const nest = variant === 'nest' ? await createNestApp() : undefined;
const app = nest ? nest.getHttpAdapter().getInstance() : express();
const { getWss } = expressWs(app, nest?.getHttpServer());

function echo(data, isBinary) {
  this.send(data, { binary: isBinary });
}

async function allow(_request, _response, next) {
  await Promise.resolve();
  next();
}

if (variant === 'middleware') app.use((_request, _response, next) => next());
const handlers = variant === 'guard' ? [allow] : [];
app.ws('/echo', ...handlers, (ws) => ws.on('message', echo));

const fanOut = {
  loop: (data) => {
    let sent = 0;
    for (const ws of getWss().clients) {
      ws.send(data);
      sent++;
    }
    return sent;
  },
};
if (nest) {
  await nest.listen(0, '127.0.0.1');
  serveBench({ port: nest.getHttpServer().address().port, fanOut });
} else {
  const server = app.listen(0, '127.0.0.1', () => {
    serveBench({ port: server.address().port, fanOut });
  });
}

async function createNestApp() {
  const [{ Module }, { NestFactory }, { decorateClass }] = await Promise.all([
    import('@nestjs/common'),
    import('@nestjs/core'),
    import('./decorate.mjs'),
  ]);
  class EmptyModule {}
  decorateClass(EmptyModule, [Module({})]);
  return NestFactory.create(EmptyModule, { logger: false });
}
