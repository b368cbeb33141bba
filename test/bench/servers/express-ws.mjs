// The Express peer: express-ws 5 on Express 5, one echo route, written as an express-ws user would.
// Usage: node express-ws.mjs [guard|middleware]
//   guard:      one async route middleware before the handler, like an auth lookup
//   middleware: one trivial app-wide middleware, `app.use((req, res, next) => next())`
// express-ws completes the upgrade (its own ws 7 `handleUpgrade`) before the Express stack runs,
// then runs the app with a dummy ServerResponse: a rejecting middleware can only close the socket.
import express from 'express';
import expressWs from 'express-ws';
import { serveBench } from './control.mjs';

const variant = process.argv[2];
const app = express();
const { getWss } = expressWs(app);

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

const server = app.listen(0, '127.0.0.1', () => {
  serveBench({
    port: server.address().port,
    fanOut: {
      loop: (data) => {
        let sent = 0;
        for (const ws of getWss().clients) {
          ws.send(data);
          sent++;
        }
        return sent;
      },
    },
  });
});
