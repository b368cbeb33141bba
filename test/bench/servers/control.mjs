// What every bench server answers, measured inside the server process itself: CPU time, memory
// after GC, and one timed fan-out.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { announceReady, answerRequests, monotonicNs } from '../ipc.mjs';

// Time the main thread spent in GC pauses (V8's own concurrent marking threads are not in it), and
// how many full collections (Mark-Compact) ran.
let gcMs = 0;
let gcMajor = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcMajor++;
  }
}).observe({ entryTypes: ['gc'] });

/**
 * Serves the orchestrator's requests. `fanOut` maps a mode name (e.g. `broadcast`, `loop`) to a
 * function sending one message to every open connection and returning how many it was passed to.
 */
export function serveBench({ port, fanOut, close }) {
  answerRequests({
    cpu: () => ({ ...process.cpuUsage(), gcMs, gcMajor }),
    memory: () => {
      for (let i = 0; i < 3; i++) globalThis.gc?.();
      return process.memoryUsage();
    },
    fanOut: ({ mode, data }) => {
      const send = fanOut[mode];
      if (!send) throw new Error(`no fan-out mode ${mode}`);
      const startNs = monotonicNs();
      const sent = send(data);
      const returnedNs = monotonicNs();
      // A broadcast may defer writes to the end of the tick (cork, nextTick): count them too.
      return new Promise((resolve) =>
        setImmediate(() => resolve({ sent, startNs, returnedNs, flushedNs: monotonicNs() })),
      );
    },
    exit: async () => {
      await close?.();
      process.exit(0);
    },
  });
  announceReady({ port, pid: process.pid, gc: typeof globalThis.gc === 'function' });
}
