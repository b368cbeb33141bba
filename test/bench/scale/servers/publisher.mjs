// What every scale-out bench instance answers over IPC: its CPU time, its broker's share of it
// (../broker-profile.mjs), and a publisher that publishes at a fixed rate, round-robin over the
// topics it is given, each payload stamped with the monotonic time of its publish call (one clock
// for every process of the machine).
import { announceReady, answerRequests, monotonicNs } from '../../ipc.mjs';
import { brokerProfiler } from '../broker-profile.mjs';

/** `mark:<ns>;` then padding up to `size` bytes; the client finds the stamp by its mark. */
export function stampedPayload(mark, size) {
  const head = `${mark}:${monotonicNs()};`;
  return head.length >= size ? head : head + 'x'.repeat(size - head.length);
}

/**
 * Publishes `rate` publications/s for `durationMs`, starting at topic `first` and going round the
 * list. Open loop: a late timer publishes what is due at once. Answers how many went to each topic.
 */
function runPublisher(publish, { rate, durationMs, topics, first = 0, size, mark }) {
  const perTopic = Array.from(topics, () => 0);
  let next = first;
  let done = 0;
  const startNs = monotonicNs();
  return new Promise((resolve) => {
    const tick = () => {
      const elapsedMs = (monotonicNs() - startNs) / 1e6;
      const due = Math.floor((Math.min(elapsedMs, durationMs) * rate) / 1000);
      for (; done < due; done++) {
        const index = next++ % topics.length;
        publish(topics[index], stampedPayload(mark, size));
        perTopic[index]++;
      }
      if (elapsedMs < durationMs) setTimeout(tick, 5);
      else resolve({ published: done, perTopic, startNs, endNs: monotonicNs() });
    };
    tick();
  });
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * The same, paced: publication k at k/rate s exactly, each in an event-loop turn of its own, so each
 * goes to Redis in a write of its own, as publications of independent sources (users' messages
 * arriving on other sockets) do. Between two, the thread sleeps (`Atomics.wait`, sub-millisecond,
 * no spinning); the write of one happens on its turn's `nextTick`, before the next sleep.
 */
function runPacedPublisher(publish, { rate, durationMs, topics, first = 0, size, mark }) {
  const perTopic = Array.from(topics, () => 0);
  let next = first;
  let done = 0;
  const startNs = monotonicNs();
  return new Promise((resolve) => {
    const step = () => {
      const dueMs = (done * 1000) / rate;
      if (dueMs >= durationMs) {
        resolve({ published: done, perTopic, startNs, endNs: monotonicNs() });
        return;
      }
      const waitMs = dueMs - (monotonicNs() - startNs) / 1e6;
      if (waitMs > 0) Atomics.wait(pause, 0, 0, waitMs);
      const index = next++ % topics.length;
      publish(topics[index], stampedPayload(mark, size));
      perTopic[index]++;
      done++;
      setImmediate(step);
    };
    step();
  });
}

/**
 * Serves the orchestrator: `cpu`, `profileStart` and `profileStop` (the broker's share of the
 * samples in between: `brokerCode` are the url fragments of the server's broker code, see
 * broker-profile.mjs; BENCH_PROFILE=0 turns the profiler off), `publish` (see runPublisher, and runPacedPublisher when `paced`),
 * `stats` (what the server can say about its broker, or null), `exit`, and the server's `more`.
 */
export function servePublisher({ port, publish, stats, close, brokerCode = [], more = {} }) {
  const profiler = brokerProfiler(brokerCode, process.env.BENCH_PROFILE !== '0');
  answerRequests({
    cpu: () => process.cpuUsage(),
    profileStart: () => profiler.start(),
    profileStop: () => profiler.stop(),
    publish: (request) =>
      request.paced ? runPacedPublisher(publish, request) : runPublisher(publish, request),
    stats: () => stats?.() ?? null,
    ...more,
    exit: async () => {
      await close?.();
      process.exit(0);
    },
  });
  announceReady({ port, pid: process.pid });
}
