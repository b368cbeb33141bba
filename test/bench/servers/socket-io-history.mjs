// socket.io with its own recovery (connection state recovery on @socket.io/redis-streams-adapter),
// for the history bench: every client joins one room; `pub` from any client is emitted to it.
// Usage: node socket-io-history.mjs <redisUrl>
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { announceReady, answerRequests } from '../ipc.mjs';

const [redisUrl] = process.argv.slice(2);
const redis = new Redis(redisUrl);
const httpServer = createServer();
const io = new Server(httpServer, {
  adapter: createAdapter(redis),
  connectionStateRecovery: { maxDisconnectionDuration: 120_000 },
});
io.on('connection', (socket) => {
  socket.join('room');
  socket.on('pub', (data) => io.to('room').emit('m', data));
});
answerRequests({
  exit: () => {
    io.close();
    redis.disconnect();
    process.exit(0);
  },
});
httpServer.listen(0, '127.0.0.1', () => announceReady({ port: httpServer.address().port }));
