// socket.io 4 scaled out over Redis (ioredis), the competitor. Usage: REDIS_URL=... node socketio.mjs MODE
//   streams: @socket.io/redis-streams-adapter, with socket.io's connection state recovery on
//   sharded: @socket.io/redis-adapter's createShardedAdapter (Redis 7 sharded Pub/Sub, dynamic
//            subscriptions: an instance SSUBSCRIBEs to a room's channel while it has members there)
// A client connects with `query: { t: 'a,b,c' }` and joins those rooms; a publication is
// `io.to(topic).emit('m', data)`.
import { createServer } from 'node:http';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { servePublisher } from './publisher.mjs';

const mode = process.argv[2];
const url = process.env.REDIS_URL;
const clients = [];
const client = () => {
  const redis = new Redis(url);
  clients.push(redis);
  return redis;
};

let io;
const httpServer = createServer();
if (mode === 'streams') {
  io = new Server(httpServer, {
    adapter: createStreamsAdapter(client()),
    connectionStateRecovery: {},
    transports: ['websocket'],
  });
} else if (mode === 'sharded') {
  io = new Server(httpServer, {
    adapter: createShardedAdapter(client(), client(), { subscriptionMode: 'dynamic' }),
    transports: ['websocket'],
  });
} else {
  throw new Error(`unknown mode ${mode}: streams | sharded`);
}

io.on('connection', (socket) => {
  const topics = String(socket.handshake.query.t ?? '')
    .split(',')
    .filter(Boolean);
  void socket.join(topics);
});

await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));

servePublisher({
  port: httpServer.address().port,
  publish: (topic, data) => io.to(topic).emit('m', data),
  close: async () => {
    await io.close();
    for (const redis of clients) redis.disconnect();
  },
  // The adapters, their codecs, and socket.io-adapter's cluster part (what goes through Redis);
  // its in-memory part (the local rooms' fan-out) is the delivery.
  brokerCode: [
    '/node_modules/@socket.io/redis-adapter/',
    '/node_modules/@socket.io/redis-streams-adapter/',
    '/node_modules/notepack.io/',
    '/node_modules/@msgpack/msgpack/',
    '/node_modules/socket.io-adapter/dist/cluster-adapter.js',
  ],
});
