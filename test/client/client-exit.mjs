// A Node process that uses the built client with `ws` and must exit by itself after close():
// MODE=connecting closes while the handshake is pending (a server that never answers),
// MODE=waiting closes while the next attempt waits (a server that refuses with 503).
import { createServer } from 'node:http';
import { WebSocket } from 'ws';
import { ReconnectingWebSocket } from '../../dist/src/client/index.js';

const held = [];
const server = createServer((request, response) => {
  if (process.env.MODE === 'connecting') return void held.push(request.socket); // never answers
  response.writeHead(503).end();
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const client = new ReconnectingWebSocket(`ws://127.0.0.1:${server.address().port}/`, { WebSocket });
client.addEventListener('close', ({ cause }) => console.log(`closed ${cause}`));
if (process.env.MODE === 'waiting') {
  await new Promise((resolve) => client.addEventListener('reconnecting', resolve));
}
client.close();
client.close(); // twice: nothing more
for (const socket of held) socket.destroy();
server.close();
