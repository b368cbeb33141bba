// `node test/bench/history.mjs [--quick] [--out DIR]` (run by `npm run bench` after the other
// scenarios; `--only history` runs it alone): topics with history against topics without, as
// ratios measured in one run.
// 1. In process: one publish to 10,000 subscribers of a topic with history vs one without.
// 2. A resume replaying 300 missed publications vs 300 live deliveries: server CPU.
// 3. Over Redis with three instances: publications/s and publish-to-deliver latency (p50/p99),
//    with and without history, next to socket.io with @socket.io/redis-streams-adapter.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { ChildProcessPeer } from './ipc.mjs';
import { startRedis } from './redis-server.mjs';
import { median } from './report.mjs';
import { measureSocketIo } from './socket-io-history.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: join(here, 'results') },
  },
});
const CONFIG = flags.quick
  ? { subscribers: 1000, repeats: 4, resumes: 3, perInstance: 10, burst: 500, paced: 200 }
  : { subscribers: 10_000, repeats: 20, resumes: 10, perInstance: 30, burst: 3000, paced: 1000 };
const DATA = 'x'.repeat(32);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const cpuMicros = ({ user, system }) => user + system;

function startServer(args = []) {
  return new ChildProcessPeer(join(here, 'servers/history.mjs'), args, {
    nodeArgs: ['--expose-gc'],
    label: 'history',
  });
}

/** 1. Median deliveries per second of one publish to every subscriber, per mode. */
async function fanOut() {
  const server = startServer();
  const load = new ChildProcessPeer(join(here, 'load.mjs'), [], { label: 'load' });
  try {
    const [{ port }] = await Promise.all([server.ready(), load.ready()]);
    const connections = CONFIG.subscribers;
    await load.request('open', { port, path: '/sub', connections });
    await sleep(300);
    const rates = { plain: [], history: [] };
    for (let i = 0; i < CONFIG.repeats; i++) {
      for (const mode of i % 2 ? ['plain', 'history'] : ['history', 'plain']) {
        await load.request('arm');
        const sent = await server.request('fanOut', { mode, data: DATA });
        const { received, lastNs } = await load.request('collect', {}, 30_000);
        if (received !== connections) throw new Error(`${mode}: ${received} of ${connections}`);
        rates[mode].push(connections / ((lastNs - sent.startNs) / 1e9));
      }
    }
    return { port, server, plain: median(rates.plain), history: median(rates.history), load };
  } catch (error) {
    await Promise.all([load.stop(), server.stop()]);
    throw error;
  }
}

/** Opens `/h` for `topics` (from `since`) and resolves after `count` frames plus the recovery frames. */
function subscribe(port, topic, since, count = 0) {
  const query = `topics=${topic}&since=${encodeURIComponent(JSON.stringify({ [topic]: since }))}`;
  const socket = new WebSocket(`ws://127.0.0.1:${port}/h?${query}`);
  let recovery;
  const frames = [];
  const done = new Promise((resolve) => {
    socket.on('message', (bytes) => {
      const text = bytes.toString();
      if (text.startsWith('{"type":"recovery"')) recovery = JSON.parse(text);
      else frames.push(text);
      if (recovery && frames.length >= count) resolve({ socket, recovery, frames });
    });
  });
  return { socket, done, frames };
}

/** 2. Server CPU (µs) of 300 live deliveries to one socket vs one resume replaying 300. */
async function resumeVersusLive(server, port) {
  const live = [];
  const resume = [];
  const reconnect = [];
  for (let i = 0; i < CONFIG.resumes; i++) {
    const listener = await subscribe(port, 'r:live').done;
    const arrived = new Promise((resolve) => {
      let n = 0;
      listener.socket.on('message', () => ++n === 300 && resolve());
    });
    const before = await server.request('cpu');
    await server.request('fanOut', { mode: 'live300', data: DATA });
    await arrived;
    live.push(cpuMicros(await server.request('cpu')) - cpuMicros(before));
    listener.socket.close();

    const first = await subscribe(port, 'r:resume').done;
    first.socket.close();
    await sleep(50);
    await server.request('fanOut', { mode: 'store300', data: DATA });
    const start = await server.request('cpu');
    const resumed = await subscribe(port, 'r:resume', first.recovery.position, 300).done;
    resume.push(cpuMicros(await server.request('cpu')) - cpuMicros(start));
    if (resumed.recovery.replayed !== 300) throw new Error(`replayed ${resumed.recovery.replayed}`);
    resumed.socket.close();
    // The same reconnect with nothing missed: what the handshake and subscribe cost alone.
    const top = resumed.recovery.position;
    const startEmpty = await server.request('cpu');
    const empty = await subscribe(port, 'r:resume', top).done;
    reconnect.push(cpuMicros(await server.request('cpu')) - cpuMicros(startEmpty));
    empty.socket.close();
  }
  return {
    liveCpuUs: median(live),
    resumeCpuUs: median(resume),
    reconnectCpuUs: median(reconnect),
  };
}

/**
 * Publishes `count` publications through `publish(i)` (paced to `perSecond`, or as fast as
 * possible), each received by `receivers`; returns publications/s and latency percentiles (ms).
 */
export async function measureDelivery({ publish, subscribe: attach, receivers, count, perSecond }) {
  const latencies = [];
  let received = 0;
  const total = receivers * count;
  let lastAt = 0;
  const allIn = new Promise((resolve) =>
    attach((sentAt) => {
      lastAt = performance.now();
      latencies.push(lastAt - sentAt);
      if (++received === total) resolve();
    }),
  );
  const startedAt = performance.now();
  for (let i = 0; i < count; i++) {
    publish(performance.now());
    if (perSecond) await sleep(1000 / perSecond);
    else if (i % 100 === 99) await sleep(0);
  }
  await Promise.race([allIn, sleep(30_000)]);
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return {
    perSecond: count / ((lastAt - startedAt) / 1000),
    p50: at(0.5),
    p99: at(0.99),
    delivered: received / total,
  };
}

/** 3. Three instances of this library on one Redis: `topic` with or without history. */
async function overRedis(redis) {
  const servers = [0, 1, 2].map(() => startServer([redis.url]));
  const ports = (await Promise.all(servers.map((s) => s.ready()))).map((r) => r.port);
  const sockets = [];
  try {
    const results = {};
    for (const topic of ['plain', 'kept']) {
      const listeners = [];
      const attach = (onSentAt) => listeners.push(onSentAt);
      for (const port of ports) {
        for (let i = 0; i < CONFIG.perInstance; i++) {
          const socket = new WebSocket(`ws://127.0.0.1:${port}/sub`);
          socket.on('message', (bytes) => {
            const sentAt = Number(bytes.toString());
            for (const listener of listeners) listener(sentAt);
          });
          sockets.push(socket);
        }
      }
      const publisher = new WebSocket(`ws://127.0.0.1:${ports[0]}/publish`);
      sockets.push(publisher);
      await Promise.all(
        sockets.map((s) => new Promise((r) => (s.readyState === 1 ? r() : s.once('open', r)))),
      );
      await sleep(300);
      // Each socket is subscribed to both topics; publish to one at a time.
      const publish = (sentAt) => publisher.send(JSON.stringify([topic, String(sentAt)]));
      const receivers = ports.length * CONFIG.perInstance;
      const burst = await measureDelivery({
        publish,
        subscribe: attach,
        receivers,
        count: CONFIG.burst,
      });
      listeners.length = 0;
      const paced = await measureDelivery({
        publish,
        subscribe: attach,
        receivers,
        count: CONFIG.paced,
        perSecond: 500,
      });
      listeners.length = 0;
      results[topic] = { perSecond: burst.perSecond, p50: paced.p50, p99: paced.p99 };
      for (const socket of sockets.splice(0)) socket.terminate();
    }
    return results;
  } finally {
    for (const socket of sockets) socket.terminate();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const round = (value, digits = 2) => +value.toPrecision(digits + 1);

function render({ fan, resume, redis, socketIo }) {
  const rows = [
    `| in process, one publish to ${CONFIG.subscribers} subscribers | without history | with history | ratio |`,
    '| --- | --- | --- | --- |',
    `| deliveries/s (median of ${CONFIG.repeats}) | ${round(fan.plain)} | ${round(fan.history)} | ${round(fan.history / fan.plain)}x |`,
    '',
    `| server CPU, µs (median of ${CONFIG.resumes}) | 300 live deliveries | resume of 300 (reconnect included) | reconnect, nothing missed | the replay alone (difference) | replay / live |`,
    '| --- | --- | --- | --- | --- | --- |',
    `| one client | ${round(resume.liveCpuUs)} | ${round(resume.resumeCpuUs)} | ${round(resume.reconnectCpuUs)} | ${round(resume.resumeCpuUs - resume.reconnectCpuUs)} | ${round((resume.resumeCpuUs - resume.reconnectCpuUs) / resume.liveCpuUs)}x |`,
    '',
    `| three instances on one Redis, ${3 * CONFIG.perInstance} subscribers | publications/s (burst of ${CONFIG.burst}) | p50 ms (500/s) | p99 ms (500/s) |`,
    '| --- | --- | --- | --- |',
    `| nestjs-ws-routes, topic without history | ${round(redis.plain.perSecond)} | ${round(redis.plain.p50)} | ${round(redis.plain.p99)} |`,
    `| nestjs-ws-routes, topic with history | ${round(redis.kept.perSecond)} | ${round(redis.kept.p50)} | ${round(redis.kept.p99)} |`,
    socketIo
      ? `| socket.io + @socket.io/redis-streams-adapter (recovery on) | ${round(socketIo.perSecond)} | ${round(socketIo.p50)} | ${round(socketIo.p99)} |`
      : '| socket.io + @socket.io/redis-streams-adapter | not measured | | |',
  ];
  return rows.join('\n') + '\n';
}

async function main() {
  console.log('history 1/3: fan-out with and without history, in process...');
  const fan = await fanOut();
  console.log('history 2/3: a resume of 300 vs 300 live deliveries...');
  let resume;
  try {
    resume = await resumeVersusLive(fan.server, fan.port);
  } finally {
    await Promise.all([fan.load.stop(), fan.server.stop()]);
  }
  console.log('history 3/3: three instances over Redis, and socket.io...');
  const redis = await startRedis();
  let results;
  let socketIo;
  try {
    results = await overRedis(redis);
    socketIo = await measureSocketIo(redis, CONFIG, measureDelivery).catch((error) => {
      console.warn(`socket.io not measured: ${error.message}`);
      return undefined;
    });
  } finally {
    await redis.stop();
  }
  const markdown = render({ fan, resume, redis: results, socketIo });
  mkdirSync(flags.out, { recursive: true });
  writeFileSync(join(flags.out, 'history.md'), markdown);
  console.log('\n' + markdown);
}

await main();
process.exit(0);
