// Scale-out scenarios of `npm run bench`: N instances of one server on one fresh redis-server (started
// here on a free port), clients on every instance, publishers on every instance (or, in the
// external-publisher tables, in one process of their own). Measures delivered publications/s,
// publish-to-deliver latency p50/p99 (stamp in the payload, one monotonic clock for every process
// of the machine), CPU per instance (`process.cpuUsage()` of each instance), the broker's part of
// that CPU (broker-profile.mjs) and Redis's own CPU (INFO cpu). Every count and time is bounded.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChildProcessPeer } from '../ipc.mjs';
import { startRedis } from '../redis-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** The servers of the scale-out scenarios; `env` is added to each instance's environment. */
export const SCALE_SERVERS = {
  // The design before interest routing, kept as the reference of the broker-CPU target.
  'library-redis': {
    script: 'library.mjs',
    args: [],
    clients: 'ws',
    label: 'nestjs-ws-routes, RedisBroker (one channel, no history)',
    env: { BENCH_BROKER_OPTIONS: JSON.stringify({ routing: 'single-channel' }) },
    external: 'external-publisher.mjs',
  },
  // The default: a channel per topic, subscribed only where the topic has followers.
  'library-redis-interest': {
    script: 'library.mjs',
    args: [],
    clients: 'ws',
    label: 'nestjs-ws-routes, RedisBroker (interest routing, no history)',
    external: 'external-publisher.mjs',
  },
  // The same with the profiler off: what profiling costs an instance (see PROFILER_OFF).
  'library-redis-interest-unprofiled': {
    script: 'library.mjs',
    args: [],
    clients: 'ws',
    label: 'nestjs-ws-routes, RedisBroker (interest routing, no history), profiler off',
    env: { BENCH_PROFILE: '0' },
  },
  'socketio-streams': {
    script: 'socketio.mjs',
    args: ['streams'],
    clients: 'socketio',
    label: 'socket.io, @socket.io/redis-streams-adapter (connection state recovery)',
  },
  'socketio-sharded': {
    script: 'socketio.mjs',
    args: ['sharded'],
    clients: 'socketio',
    label: 'socket.io, @socket.io/redis-adapter createShardedAdapter (dynamic)',
  },
};

export const SCALE_FULL = {
  rates: [1000, 4000],
  settleMs: 500,
  warmupMs: 1000,
  durationMs: 5000,
  // the broker-only tables (broker-only.mjs): a broker alone spends little, so a longer window
  brokerOnlyMs: 10_000,
  // what an idle broker spends is measured over this long before each broker-only window
  idleMs: 2000,
  drainMs: 10_000,
  size: 64,
  everywhere: { instances: 3, clientsPerInstance: 20, topics: 50, topicsPerClient: 5 },
  oneInstance: { instances: 4, clientsPerInstance: 25, topics: 1000, topicsPerClient: 20 },
};
export const SCALE_QUICK = {
  rates: [500],
  settleMs: 200,
  warmupMs: 200,
  durationMs: 600,
  idleMs: 200,
  drainMs: 5000,
  size: 64,
  everywhere: { instances: 3, clientsPerInstance: 10, topics: 50, topicsPerClient: 5 },
  oneInstance: { instances: 4, clientsPerInstance: 10, topics: 200, topicsPerClient: 5 },
};

/**
 * A library variant from a run.mjs flag: `{ id, label, ws?, broker?, scenarios? }` where `ws` is
 * merged into `WsModule.forRoot()` options and `broker` into `new RedisBroker()` options.
 */
export function addLibraryVariant({ id, label, ws = {}, broker = {} }) {
  if (!id || !label) throw new Error('a --variant needs an "id" and a "label"');
  SCALE_SERVERS[id] = {
    script: 'library.mjs',
    args: [],
    clients: 'ws',
    label,
    env: { BENCH_WS_OPTIONS: JSON.stringify(ws), BENCH_BROKER_OPTIONS: JSON.stringify(broker) },
    external: 'external-publisher.mjs',
  };
  return id;
}

/** The row with the profiler off, and the row it is the same server as (report.mjs). */
export const PROFILER_OFF = {
  server: 'library-redis-interest-unprofiled',
  profiled: 'library-redis-interest',
};

/**
 * The scale-out scenarios, one per topology and offered rate. `variants` maps a topology
 * (`everywhere`, `oneInstance`, `external`) to more server ids (library variants) to run in it.
 */
export function scaleScenarios(config, variants = {}) {
  const scenarios = [];
  // The highest rate is the one meant to find each server's ceiling; below it, all may keep up.
  const highest = Math.max(...config.rates);
  for (const rate of config.rates) {
    const { everywhere: e, oneInstance: o } = config;
    scenarios.push(
      {
        id: `scale${e.instances}x${rate}`,
        kind: 'scale',
        topology: { ...e, followedOn: 'everywhere', rate, highest: rate === highest },
        servers: [
          'library-redis',
          'library-redis-interest',
          ...(variants.everywhere ?? []),
          'socketio-streams',
        ],
        baseline: 'socketio-streams',
        baselineTitle: 'socket.io streams',
        title:
          `Scale-out: ${e.instances} instances on one Redis, ${rate} publications/s offered, ` +
          `${e.topics} topics followed on every instance (${e.instances * e.clientsPerInstance} clients, ` +
          `${e.topicsPerClient} topics each)`,
      },
      {
        id: `scale${o.instances}x${rate}`,
        kind: 'scale',
        topology: { ...o, followedOn: 'one', rate, highest: rate === highest },
        servers: [
          'library-redis',
          'library-redis-interest',
          ...(rate === highest ? [PROFILER_OFF.server] : []),
          ...(variants.oneInstance ?? []),
          'socketio-sharded',
        ],
        baseline: 'socketio-sharded',
        baselineTitle: 'socket.io sharded',
        title:
          `Scale-out: ${o.instances} instances on one Redis, ${rate} publications/s offered, ` +
          `${o.topics} topics each followed on one instance only (${o.instances * o.clientsPerInstance} ` +
          `clients, ${o.topicsPerClient} topics each)`,
      },
      // The instances only take in and deliver: the publications come from another process.
      ...[false, ...(rate === highest ? [true] : [])].map((paced) => ({
        id: `scale${o.instances}x${rate}ext${paced ? 'paced' : ''}`,
        kind: 'scale',
        topology: {
          ...o,
          followedOn: 'one',
          rate,
          highest: rate === highest,
          external: true,
          paced,
        },
        servers: ['library-redis', 'library-redis-interest', ...(variants.external ?? [])],
        baseline: 'library-redis',
        baselineTitle: 'one channel',
        title:
          `Scale-out, external publisher${paced ? ', paced (each publication a write of its own)' : ''}: ` +
          `${o.instances} instances on one Redis, ${rate} publications/s offered by one process ` +
          `with a RedisBroker of the same routing, ${o.topics} topics each followed on one instance only`,
      })),
    );
  }
  return scenarios;
}

/**
 * Who follows what: per instance, one topic list per client; and how many clients follow each topic.
 * `everywhere`: client g (over all instances) follows topics gK..gK+K-1 mod T, so every topic has
 * followers on several instances. `one`: topic t belongs to instance t mod N, and only that
 * instance's clients follow it.
 */
export function followers({ instances, clientsPerInstance, topics, topicsPerClient, followedOn }) {
  const names = Array.from({ length: topics }, (_, t) => `t${t}`);
  const count = Array.from(names, () => 0);
  const perInstance = [];
  for (let i = 0; i < instances; i++) {
    const pool =
      followedOn === 'one' ? names.map((_, t) => t).filter((t) => t % instances === i) : null;
    const clients = [];
    for (let j = 0; j < clientsPerInstance; j++) {
      const g = i * clientsPerInstance + j;
      const mine = [];
      for (let k = 0; k < topicsPerClient; k++) {
        const t = pool
          ? pool[(j * topicsPerClient + k) % pool.length]
          : (g * topicsPerClient + k) % topics;
        if (mine.includes(names[t])) continue;
        mine.push(names[t]);
        count[t]++;
      }
      clients.push(mine);
    }
    perInstance.push(clients);
  }
  return { names, count, perInstance };
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const cpuMicros = (usage) => usage.user + usage.system;

/**
 * One server id, one scenario, fresh processes (Redis, N instances, the clients): its metrics.
 * `prefix(cpu)` wraps a command to pin it (instances on CPU 0, Redis and the clients on CPU 1).
 */
export async function measureScale(scenario, serverId, config, prefix) {
  const server = SCALE_SERVERS[serverId];
  const { topology } = scenario;
  const startedAt = Date.now();
  const redis = await startRedis(prefix(1));
  const instances = Array.from(
    { length: topology.instances },
    (_, i) =>
      new ChildProcessPeer(join(here, 'servers', server.script), server.args, {
        prefix: prefix(0),
        label: `${serverId}#${i}`,
        env: { ...process.env, REDIS_URL: redis.url, ...server.env },
      }),
  );
  const clients = new ChildProcessPeer(join(here, 'clients.mjs'), [], {
    prefix: prefix(1),
    label: `${serverId} clients`,
  });
  // Another service's process, on the clients' and Redis's core (the instances keep theirs).
  const external = topology.external
    ? new ChildProcessPeer(join(here, 'servers', server.external), [], {
        prefix: prefix(1),
        label: `${serverId} publisher`,
        env: { ...process.env, REDIS_URL: redis.url, ...server.env },
      })
    : undefined;
  const publishers = external ? [external] : instances;
  try {
    const ready = await Promise.all(instances.map((instance) => instance.ready()));
    await clients.ready();
    await external?.ready();
    const follow = followers(topology);
    await clients.request('connect', {
      kind: server.clients,
      instances: ready.map(({ port }, i) => ({ port, clients: follow.perInstance[i] })),
    });
    const setupMs = Date.now() - startedAt;
    await sleep(config.settleMs); // subscriptions that travel to Redis (dynamic, sharded) settle
    await publishEverywhere(publishers, follow, topology, config, config.warmupMs, 'w');
    await sleep(config.settleMs);
    const window = { instances, publishers, clients, redis, follow, topology, config };
    const result = await measureWindow(window);
    return { ...result, setupMs, measuredMs: Date.now() - startedAt - setupMs };
  } finally {
    await external?.stop();
    await clients.stop();
    await Promise.all(instances.map((instance) => instance.stop()));
    await redis.stop();
  }
}

/**
 * Every publisher publishes `rate / N` per second, over all topics, each from its own start: in
 * 5 ms ticks, or (`topology.paced`) one by one at even intervals (publisher.mjs).
 */
export function publishEverywhere(publishers, follow, topology, config, durationMs, mark) {
  const { names } = follow;
  return Promise.all(
    publishers.map((publisher, i) =>
      publisher.request('publish', {
        rate: topology.rate / publishers.length,
        durationMs,
        topics: names,
        first: Math.floor((i * names.length) / publishers.length),
        size: config.size,
        mark,
        paced: topology.paced === true,
      }),
    ),
  );
}

/** Sends `cmd` to every peer at once; resolves with their answers, in order. */
export const askAll = (peers, cmd) => Promise.all(peers.map((peer) => peer.request(cmd)));

async function measureWindow({ instances, publishers, clients, redis, follow, topology, config }) {
  const armed = await clients.request('arm', { mark: 'm' });
  await askAll(instances, 'profileStart');
  const cpuStart = await askAll(instances, 'cpu');
  const statsStart = await askAll(instances, 'stats');
  const redisStart = redis.cpuMicros();
  const runs = await publishEverywhere(
    publishers,
    follow,
    topology,
    config,
    config.durationMs,
    'm',
  );
  let expected = 0;
  for (const run of runs) run.perTopic.forEach((n, t) => (expected += n * follow.count[t]));
  const drainEnd = Date.now() + config.drainMs;
  while ((await clients.request('progress')).received < expected && Date.now() < drainEnd) {
    await sleep(50);
  }
  const cpuEnd = await askAll(instances, 'cpu');
  const statsEnd = await askAll(instances, 'stats');
  const redisMicros = redis.cpuMicros() - redisStart;
  const profiles = await askAll(instances, 'profileStop');
  const got = await clients.request('collect');
  if (got.received === 0) throw new Error('no publication was delivered');
  const published = runs.reduce((sum, run) => sum + run.published, 0);
  const startNs = Math.min(...runs.map((run) => run.startNs));
  const windowMicros = (Math.max(got.lastNs, ...runs.map((run) => run.endNs)) - startNs) / 1e3;
  const instanceMicros = cpuEnd.map((end, i) => cpuMicros(end) - cpuMicros(cpuStart[i]));
  const meanInstanceMicros = instanceMicros.reduce((a, b) => a + b, 0) / instances.length;
  const deliveredShare = got.received / expected;
  return {
    offeredPerSecond: topology.rate,
    published,
    expected,
    received: got.received,
    deliveredShare,
    publicationsPerSecond: (published * deliveredShare) / ((got.lastNs - startNs) / 1e9),
    p50Ms: got.p50Ms,
    p99Ms: got.p99Ms,
    instanceCpuShare: meanInstanceMicros / windowMicros,
    instanceCpuShares: instanceMicros.map((micros) => micros / windowMicros),
    instanceCpuUsPerPublication: meanInstanceMicros / published,
    // The clients' process: near 100 % would mean the clients, not the servers, set the pace.
    clientsCpuShare: (cpuMicros(got.cpu) - cpuMicros(armed.cpu)) / windowMicros,
    redisCpuUsPerPublication: redisMicros / published,
    ...brokerReceived(statsStart, statsEnd, published),
    ...brokerCpu(profiles, instanceMicros, windowMicros, published),
  };
}

/**
 * The broker's CPU per instance: each instance's CPU over the window times the broker's share of
 * its profile's busy samples (broker-profile.mjs); null with the profiler off.
 */
function brokerCpu(profiles, instanceMicros, windowMicros, published) {
  if (profiles.some((profile) => profile === null)) {
    return { brokerCpuShare: null, brokerCpuUsPerPublication: null, brokerShares: null };
  }
  const micros = profiles.map(({ brokerShare }, i) => brokerShare * instanceMicros[i]);
  const mean = micros.reduce((a, b) => a + b, 0) / micros.length;
  return {
    brokerCpuShare: mean / windowMicros,
    brokerCpuUsPerPublication: mean / published,
    brokerShares: profiles,
  };
}

/**
 * What each instance's broker took in from Redis over the window (this library's
 * `stats().broker.received`; null for servers that do not say), and its mean per publication.
 */
function brokerReceived(statsStart, statsEnd, published) {
  const perInstance = statsEnd.map((end, i) =>
    end && statsStart[i] ? end.received - statsStart[i].received : null,
  );
  const known = perInstance.every((received) => received !== null);
  return {
    brokerReceived: perInstance,
    brokerReceivedPerPublication: known
      ? perInstance.reduce((a, b) => a + b, 0) / perInstance.length / published
      : null,
  };
}
