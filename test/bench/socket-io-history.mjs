// The socket.io side of the history bench: three socket.io servers with
// @socket.io/redis-streams-adapter on the same Redis, the same subscribers and publications.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { ChildProcessPeer } from './ipc.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** Publications/s (burst) and p50/p99 latency (paced 500/s), as `measureDelivery` reports them. */
export async function measureSocketIo(redis, config, measureDelivery) {
  const servers = [0, 1, 2].map(
    () =>
      new ChildProcessPeer(join(here, 'servers/socket-io-history.mjs'), [redis.url], {
        label: 'socket.io',
      }),
  );
  const clients = [];
  try {
    const ports = (await Promise.all(servers.map((s) => s.ready()))).map((r) => r.port);
    const listeners = [];
    for (const port of ports) {
      for (let i = 0; i < config.perInstance; i++) {
        const client = io(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
        client.on('m', (data) => {
          for (const listener of listeners) listener(Number(data));
        });
        clients.push(client);
      }
    }
    const publisher = io(`http://127.0.0.1:${ports[0]}`, { transports: ['websocket'] });
    clients.push(publisher);
    await Promise.all(
      clients.map((c) => new Promise((r) => (c.connected ? r() : c.once('connect', r)))),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The publisher is in the room too: count the other clients only.
    const receivers = ports.length * config.perInstance;
    const attach = (onSentAt) => listeners.push(onSentAt);
    const publish = (sentAt) => publisher.emit('pub', String(sentAt));
    const burst = await measureDelivery({
      publish,
      subscribe: attach,
      receivers,
      count: config.burst,
    });
    listeners.length = 0;
    const paced = await measureDelivery({
      publish,
      subscribe: attach,
      receivers,
      count: config.paced,
      perSecond: 500,
    });
    return { perSecond: burst.perSecond, p50: paced.p50, p99: paced.p99 };
  } finally {
    for (const client of clients) client.disconnect();
    await Promise.all(servers.map((s) => s.request('exit').catch(() => {})));
  }
}
