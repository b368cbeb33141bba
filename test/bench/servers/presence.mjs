// A presence store of the BUILT library (dist/src), measured inside this process: join and leave
// cost per operation, then `list()` and `count()` of one topic at `members` members.
// Usage: node presence.mjs in-process|redis|redis-cluster   (redis: starts a redis-server of its
// own; redis-cluster: a 3-master Redis Cluster of its own, the topic on one shard)
import { InProcessPresence, RedisPresence } from '../../../dist/src/index.js';
import { announceReady, answerRequests, monotonicNs } from '../ipc.mjs';
import { startRedis, startRedisCluster } from '../redis-server.mjs';

const [store = 'in-process'] = process.argv.slice(2);
const TOPIC = 'bench';

const redis =
  store === 'redis'
    ? await startRedis()
    : store === 'redis-cluster'
      ? await startRedisCluster()
      : undefined;
const prefix = `bench-${process.pid}`;
const presence =
  redis === undefined
    ? new InProcessPresence()
    : new RedisPresence(redis.url ? { url: redis.url, prefix } : { cluster: redis.nodes, prefix });
let events = 0;
await presence.start(() => events++);

const cpuUs = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};
const member = (i) => ({ clientId: `client-${i}`, info: { name: `member ${i}` } });

/** Runs `operation(i)` for i < count, `inFlight` at a time; wall and CPU time per operation (µs). */
async function timed(count, inFlight, operation) {
  const startNs = monotonicNs();
  const startCpu = cpuUs();
  for (let i = 0; i < count; i += inFlight) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + inFlight); j++) batch.push(operation(j));
    await Promise.all(batch);
  }
  return { wallUs: (monotonicNs() - startNs) / 1000 / count, cpuUs: (cpuUs() - startCpu) / count };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function measure({ operations, members, reads }) {
  const join = await timed(operations, 100, (i) => presence.join(TOPIC, member(i)));
  const leave = await timed(operations, 100, (i) => presence.leave(TOPIC, member(i).clientId));
  await timed(members, 500, (i) => presence.join(TOPIC, member(i)));
  const latencies = [];
  let listed = 0;
  for (let i = 0; i < reads; i++) {
    const startNs = monotonicNs();
    listed = (await presence.list(TOPIC)).length;
    latencies.push((monotonicNs() - startNs) / 1e6);
  }
  latencies.sort((a, b) => a - b);
  const count = await timed(reads, 1, () => presence.count(TOPIC));
  await timed(members, 500, (i) => presence.leave(TOPIC, member(i).clientId));
  if (listed !== members) throw new Error(`listed ${listed} of ${members} members`);
  return {
    joinUsPerOp: join.wallUs,
    joinCpuUsPerOp: join.cpuUs,
    leaveUsPerOp: leave.wallUs,
    leaveCpuUsPerOp: leave.cpuUs,
    listP50Ms: percentile(latencies, 0.5),
    listP99Ms: percentile(latencies, 0.99),
    countUs: count.wallUs,
  };
}

answerRequests({
  presence: ({ operations, members, reads }) => measure({ operations, members, reads }),
  exit: async () => {
    await presence.stop();
    await redis?.stop();
    process.exit(0);
  },
});
announceReady({ port: 0, pid: process.pid });
