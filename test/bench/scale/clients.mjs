// The clients of a scale-out run, all in one process: connections to every instance, each following
// its topics, timing every delivery from the stamp in its payload (see servers/publisher.mjs).
// `ws` clients for this library's raw routes, socket.io-client (WebSocket transport only) for
// socket.io. Driven by the orchestrator over IPC (../ipc.mjs).
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';
import { announceReady, answerRequests, monotonicNs } from '../ipc.mjs';

const sockets = [];
const latency = { samples: new Float64Array(2_000_000), count: 0 };
let window = null;

/** Counts one delivery stamped with the armed mark, and its publish-to-deliver time. */
function onPayload(payload) {
  const nowNs = monotonicNs();
  if (window === null) return;
  const text = typeof payload === 'string' ? payload : payload.toString('latin1');
  const at = text.indexOf(window.prefix);
  if (at === -1) return;
  const stampNs = Number(text.slice(at + window.prefix.length, text.indexOf(';', at)));
  window.received++;
  window.firstNs ??= nowNs;
  window.lastNs = nowNs;
  if (latency.count < latency.samples.length) latency.samples[latency.count++] = nowNs - stampNs;
}

function openWs(port, topics) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/topics?t=${topics.join(',')}`, {
      perMessageDeflate: false,
    });
    socket.on('message', onPayload);
    socket.once('open', () => resolve({ close: () => socket.terminate() }));
    socket.once('error', reject);
  });
}

function openSocketIo(port, topics) {
  return new Promise((resolve, reject) => {
    const socket = io(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      query: { t: topics.join(',') },
      forceNew: true,
      reconnection: false,
    });
    socket.on('m', onPayload);
    socket.once('connect', () => resolve({ close: () => socket.disconnect() }));
    socket.once('connect_error', reject);
  });
}

/** Opens every connection, at most `parallel` at a time. */
async function openAll(kind, instances, parallel = 50) {
  const open = kind === 'socketio' ? openSocketIo : openWs;
  const queue = instances.flatMap(({ port, clients }) => clients.map((topics) => [port, topics]));
  async function worker() {
    while (queue.length > 0) {
      const [port, topics] = queue.shift();
      sockets.push(await open(port, topics));
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const toMs = (ns) => (ns === null ? null : ns / 1e6);

answerRequests({
  /** `instances`: `[{ port, clients: [[topic, ...], ...] }]`, one topic list per connection. */
  connect: async ({ kind, instances }) => {
    await openAll(kind, instances);
    return { open: sockets.length };
  },
  /** From now on, counts the deliveries whose payload carries `mark`. */
  arm: ({ mark }) => {
    window = { prefix: `${mark}:`, received: 0, firstNs: null, lastNs: null };
    latency.count = 0;
  },
  progress: () => ({ received: window?.received ?? 0 }),
  collect: () => {
    const samples = latency.samples.subarray(0, latency.count).toSorted();
    const { received, firstNs, lastNs } = window;
    window = null;
    return {
      received,
      firstNs,
      lastNs,
      p50Ms: toMs(percentile(samples, 50)),
      p99Ms: toMs(percentile(samples, 99)),
      cpu: process.cpuUsage(),
    };
  },
  exit: () => {
    for (const socket of sockets) socket.close();
    process.exit(0);
  },
});

announceReady({ pid: process.pid });
