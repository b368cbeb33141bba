// One instance of the history test app (history-app.module.mjs) as its own process, for the
// history tests. Env: PLATFORM (express|fastify), REDIS_URL (none: in-process broker),
// REDIS_CLUSTER (host:port,... of a Redis Cluster, instead of REDIS_URL), HISTORY_SIZE (default
// 1000), HISTORY (off: no topic keeps history), PORT (default 0), READ_TIMEOUT_MS (the broker's
// readTimeoutMs). Prints the URL it listens on.
import { startHistoryApp } from './history-app.module.mjs';

const {
  PLATFORM = 'express',
  REDIS_URL,
  REDIS_CLUSTER,
  HISTORY_SIZE = '1000',
  HISTORY = 'on',
  PORT = '0',
  READ_TIMEOUT_MS,
} = process.env;

const payload = (data, { offset, epoch }, topic) =>
  JSON.stringify({ type: 'pub', topic, offset, epoch, data });

const { port } = await startHistoryApp({
  platform: PLATFORM,
  redisUrl: REDIS_URL,
  cluster: REDIS_CLUSTER?.split(',').map((node) => {
    const [host, nodePort] = node.split(':');
    return { host, port: Number(nodePort) };
  }),
  port: Number(PORT),
  readTimeoutMs: READ_TIMEOUT_MS === undefined ? undefined : Number(READ_TIMEOUT_MS),
  history:
    HISTORY === 'off'
      ? undefined
      : { default: { size: Number(HISTORY_SIZE), ttlMs: 600_000, payload } },
});
console.log(`Listening on http://127.0.0.1:${port}`);
