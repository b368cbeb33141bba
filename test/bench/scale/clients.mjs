// The clients of a scale-out run, all in one process: connections to every instance, each following
// its topics, timing every delivery from the stamp in its payload (see servers/publisher.mjs).
// Every client is a `ws` WebSocket, so that a delivery costs the client the same whatever the
// server: this library's raw routes, or socket.io spoken at the packet level (Engine.IO 4 over the
// WebSocket transport, Socket.IO protocol 5), as load.mjs keeps its own client cheaper than the
// servers it measures. Driven by the orchestrator over IPC (../ipc.mjs).
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

// Engine.IO packet types (first byte): 0 open, 2 ping, 3 pong, 4 message; a Socket.IO packet
// follows a 4: 0 connect, 2 event (`42["m","<payload>",<offset>?]`).
const OPEN = 0x30;
const PING = 0x32;
const MESSAGE = 0x34;
const CONNECT = 0x30;
const EVENT = 0x32;

function openSocketIo(port, topics) {
  return new Promise((resolve, reject) => {
    const url = `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&t=${topics.join(',')}`;
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.on('message', (packet) => {
      if (packet[0] === MESSAGE && packet[1] === EVENT) onPayload(packet);
      else if (packet[0] === PING && packet.length === 1) socket.send('3');
      else if (packet[0] === OPEN) socket.send('40');
      else if (packet[0] === MESSAGE && packet[1] === CONNECT) {
        resolve({ close: () => socket.terminate() });
      }
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before the Socket.IO connect')));
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
    return { cpu: process.cpuUsage() };
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
