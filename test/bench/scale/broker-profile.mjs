// The broker's own CPU in a scale-out instance: V8's sampling profiler runs in-process
// (`node:inspector`) over the measured window, and each sample is given to the broker or not by the
// code it is running. The rule (docs/performance.md, "Scale-out scenarios"): from the sample's leaf frame
// towards the root, the first frame whose script is *owned* decides. A frame is owned when its url
// is a file of the app (not `node:` internals, not V8's own `(garbage collector)`, `(program)`,
// `(idle)`, `(root)`, which have no url); it is the broker's when that file belongs to the Redis
// client (REDIS_CLIENT_CODE) or to the server's broker code (`brokerCode`), and the local
// delivery's otherwise (ws, the registry's fan-out, handler code, the bench's publisher). So a
// Buffer copy or a socket write under ioredis is the broker's, one under ws is not. Samples with no
// owned frame on their stack (GC at the root, `(program)`, libuv callbacks into Node internals
// only) are nobody's: they stay in the total, not in the broker's part. `(idle)` samples are left
// out of the total.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/** The Redis client (ioredis) and its dependencies, for every server. */
export const REDIS_CLIENT_CODE = [
  '/node_modules/ioredis/',
  '/node_modules/redis-parser/',
  '/node_modules/@ioredis/',
  '/node_modules/denque/',
  '/node_modules/cluster-key-slot/',
  '/node_modules/standard-as-callback/',
];

/** Sampling interval of every instance, µs (V8's default is 1,000). */
export const SAMPLING_INTERVAL_US = 1000;

/**
 * Shares of a V8 CPU profile's non-idle samples: the broker's, the local delivery's and nobody's,
 * by the rule above. `brokerCode`: url fragments. Samples are counted, not weighted by the time
 * since the previous one: every thread of an instance shares one pinned core, so a long gap is
 * time the whole process was off the CPU, which no code of it spent.
 */
export function brokerShares(profile, brokerCode) {
  const owners = [...REDIS_CLIENT_CODE, ...brokerCode];
  const byId = new Map(profile.nodes.map((node) => [node.id, { node, parent: undefined }]));
  for (const { node } of byId.values()) {
    for (const child of node.children ?? []) byId.get(child).parent = node.id;
  }
  const ownerOf = new Map();
  const owner = (id) => {
    if (ownerOf.has(id)) return ownerOf.get(id);
    const entry = byId.get(id);
    const { url, functionName } = entry.node.callFrame;
    let result;
    if (functionName === '(idle)') result = 'idle';
    else if (url && !url.startsWith('node:')) {
      result = owners.some((fragment) => url.includes(fragment)) ? 'broker' : 'delivery';
    } else result = entry.parent === undefined ? 'nobody' : owner(entry.parent);
    ownerOf.set(id, result);
    return result;
  };
  const count = { broker: 0, delivery: 0, nobody: 0, idle: 0 };
  for (const id of profile.samples) count[owner(id)]++;
  const busySamples = count.broker + count.delivery + count.nobody;
  const share = (n) => (busySamples === 0 ? 0 : n / busySamples);
  return {
    brokerShare: share(count.broker),
    deliveryShare: share(count.delivery),
    nobodyShare: share(count.nobody),
    busySamples,
  };
}

/**
 * The profiler of one instance: `start()` at the start of the measured window, `stop()` at its
 * end answers `brokerShares` (null both ways when `enabled` is false, to measure its overhead).
 * With BENCH_PROFILE_DIR set, each window's profile is also written there (`<pid>-<ms>.cpuprofile`,
 * for profile-summary.mjs).
 */
export function brokerProfiler(brokerCode, enabled = true) {
  const session = new Session();
  let ready;
  return {
    async start() {
      if (!enabled) return null;
      if (ready === undefined) {
        session.connect();
        ready = session
          .post('Profiler.enable')
          .then(() =>
            session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US }),
          );
      }
      await ready;
      await session.post('Profiler.start');
      return null;
    },
    async stop() {
      if (!enabled) return null;
      const { profile } = await session.post('Profiler.stop');
      const dir = process.env.BENCH_PROFILE_DIR;
      if (dir)
        writeFileSync(
          join(dir, `${process.pid}-${Date.now()}.cpuprofile`),
          JSON.stringify(profile),
        );
      return brokerShares(profile, brokerCode);
    },
  };
}
