// The broker-only scenarios of `npm run bench`: the four-instance tables with every instance
// reduced to its `RedisBroker` (servers/broker-only.mjs), so that an instance's process CPU is its
// broker's CPU, measured by the kernel (`process.cpuUsage()`), with no profiler and no socket
// delivery in it. What an idle broker process spends over the same time (timers, Redis
// heartbeats) is measured before the window and taken off. Interest routing against one channel,
// at equal publish rate; publications in 5 ms ticks (one process publishing in bursts) or paced
// one by one (independent sources). Every count and time is bounded.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChildProcessPeer } from '../ipc.mjs';
import { startRedis } from '../redis-server.mjs';
import { askAll, publishEverywhere, sleep } from './scale.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** The two designs, as the instances' broker options. */
export const BROKER_ONLY_SERVERS = {
  'broker-channel': {
    label: 'RedisBroker alone, one channel (the design before interest routing)',
    env: { BENCH_BROKER_OPTIONS: JSON.stringify({ routing: 'single-channel' }) },
  },
  'broker-interest': {
    label: 'RedisBroker alone, interest routing (the default)',
    env: {},
  },
};

/**
 * The broker-only scenarios at each of `brokerOnlyRates` (default: the highest of `rates`):
 * publishers in the instances or in a process of their own, publications in ticks or paced. `o`
 * is the scale config's `oneInstance` topology.
 */
export function brokerOnlyScenarios({ oneInstance: o, rates, brokerOnlyRates }) {
  return (brokerOnlyRates ?? [Math.max(...rates)]).flatMap((rate) => scenariosAt(o, rate));
}

function scenariosAt(o, rate) {
  const scenarios = [];
  // Paced publishing only from a process of its own: an instance that publishes paced sleeps
  // between two publications, and would read Redis in batches meanwhile.
  for (const [external, paced] of [
    [false, false],
    [true, false],
    [true, true],
  ]) {
    const who = external ? 'one external publisher' : 'every instance publishing';
    const how = paced ? 'paced, each publication a write of its own' : 'in 5 ms ticks';
    scenarios.push({
      id: `broker${o.instances}x${rate}${external ? 'ext' : ''}${paced ? 'paced' : ''}`,
      kind: 'brokerOnly',
      topology: { ...o, followedOn: 'one', rate, external, paced },
      servers: ['broker-channel', 'broker-interest'],
      baseline: 'broker-channel',
      baselineTitle: 'one channel',
      title:
        `Broker alone: ${o.instances} instances on one Redis, ${rate} publications/s (${who}, ` +
        `${how}), ${o.topics} topics each followed on one instance only`,
    });
  }
  return scenarios;
}

const cpuMicros = (usage) => usage.user + usage.system;

/** One design, one scenario, fresh processes (Redis, N broker instances, a publisher): its metrics. */
export async function measureBrokerOnly(scenario, serverId, scaleConfig, prefix) {
  let config = scaleConfig;
  const server = BROKER_ONLY_SERVERS[serverId];
  const { topology } = scenario;
  const redis = await startRedis(prefix(1));
  const env = { ...process.env, REDIS_URL: redis.url, BENCH_PROFILE: '0', ...server.env };
  const script = join(here, 'servers', 'broker-only.mjs');
  const instances = Array.from(
    { length: topology.instances },
    (_, i) =>
      new ChildProcessPeer(script, [], { prefix: prefix(0), label: `${serverId}#${i}`, env }),
  );
  const external = topology.external
    ? new ChildProcessPeer(join(here, 'servers', 'external-publisher.mjs'), [], {
        prefix: prefix(1),
        label: `${serverId} publisher`,
        env,
      })
    : undefined;
  const publishers = external ? [external] : instances;
  try {
    await Promise.all(instances.map((instance) => instance.ready()));
    await external?.ready();
    const follow = { names: Array.from({ length: topology.topics }, (_, t) => `t${t}`) };
    await Promise.all(
      instances.map((instance, i) =>
        instance.request('follow', {
          topics: follow.names.filter((_, t) => t % topology.instances === i),
        }),
      ),
    );
    await sleep(config.settleMs);
    await publishEverywhere(publishers, follow, topology, config, config.warmupMs, 'w');
    config = { ...config, durationMs: config.brokerOnlyMs ?? config.durationMs };
    await sleep(config.settleMs);
    // What the broker processes spend idle (heartbeats, timers), per µs of wall time.
    const idleStart = await askAll(instances, 'cpu');
    const idleStartNs = process.hrtime.bigint();
    await sleep(config.idleMs);
    const idleEnd = await askAll(instances, 'cpu');
    const idleWallMicros = Number(process.hrtime.bigint() - idleStartNs) / 1e3;
    const idleShare =
      idleEnd.reduce((sum, end, i) => sum + cpuMicros(end) - cpuMicros(idleStart[i]), 0) /
      instances.length /
      idleWallMicros;
    return await measureWindow({
      instances,
      publishers,
      redis,
      follow,
      topology,
      config,
      idleShare,
    });
  } finally {
    await external?.stop();
    await Promise.all(instances.map((instance) => instance.stop()));
    await redis.stop();
  }
}

async function measureWindow({
  instances,
  publishers,
  redis,
  follow,
  topology,
  config,
  idleShare,
}) {
  const before = await askAll(instances, 'stats');
  const cpuStart = await askAll(instances, 'cpu');
  const redisStart = redis.cpuMicros();
  const startNs = process.hrtime.bigint();
  const runs = await publishEverywhere(
    publishers,
    follow,
    topology,
    config,
    config.durationMs,
    'm',
  );
  // Each topic is followed on one instance; a publication comes back to its own publisher only as
  // an echo that is not delivered (the registry delivers locally), so those are not expected.
  const n = topology.instances;
  let expected = 0;
  runs.forEach((run, p) =>
    run.perTopic.forEach((count, t) => {
      if (topology.external || t % n !== p) expected += count;
    }),
  );
  const deliveredNow = async () =>
    (await askAll(instances, 'stats')).reduce(
      (sum, stats, i) => sum + stats.delivered - before[i].delivered,
      0,
    );
  const drainEnd = Date.now() + config.drainMs;
  let delivered = await deliveredNow();
  while (delivered < expected && Date.now() < drainEnd) {
    await sleep(20);
    delivered = await deliveredNow();
  }
  const cpuEnd = await askAll(instances, 'cpu');
  const wallMicros = Number(process.hrtime.bigint() - startNs) / 1e3;
  const after = await askAll(instances, 'stats');
  const redisMicros = redis.cpuMicros() - redisStart;
  const published = runs.reduce((sum, run) => sum + run.published, 0);
  const micros = cpuEnd.map((end, i) => cpuMicros(end) - cpuMicros(cpuStart[i]));
  const mean = micros.reduce((a, b) => a + b, 0) / n;
  const brokerMicros = Math.max(0, mean - idleShare * wallMicros);
  const received = after.reduce((sum, stats, i) => sum + stats.received - before[i].received, 0);
  return {
    offeredPerSecond: topology.rate,
    published,
    expected,
    deliveredShare: delivered / expected,
    brokerCpuShare: brokerMicros / wallMicros,
    brokerCpuUsPerPublication: brokerMicros / published,
    processCpuUsPerPublication: mean / published,
    idleCpuShare: idleShare,
    receivedPerPublication: received / n / published,
    redisCpuUsPerPublication: redisMicros / published,
  };
}
