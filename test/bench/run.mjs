// `npm run bench [-- --quick] [--rounds N] [--only echo,echo16k,handshake,memory,scale,brokerOnly,history,presence]
//   [--servers raw-ws,library-express] [--no-build] [--no-pin] [--profile] [--profile-interval US] [--out DIR] [--page FILE]
//   [--history JSON] [--variant JSON ...] [--broker-rates N,N] [--presence-cluster] [--baseline DIR]
//   [--instructions]`
// A full run rewrites the benchmark page, docs/benchmarks.md (`--page` elsewhere); a `--quick` run
// writes it to its --out directory (default test/bench/results/) and never touches docs/.
// `--presence-cluster` adds a RedisPresence row on a 3-master Redis Cluster of its own.
// Builds the library, then for every scenario runs every server in its own process (pinned to
// CPU 0 with taskset when available) against a load generator process (CPU 1), interleaved
// A B C A B C ... for several rounds, and reports medians, spreads and ratios to raw ws (the
// handshake tables also to the same-platform peer: express-ws, @fastify/websocket).
// The scale-out scenarios (scale/scale.mjs) run N instances per server on a Redis of their own,
// with ratios to socket.io. `--history '{"default":{"size":1000}}'` adds a row of this library with
// `WsModule.forRoot({ history })`; `--variant '{"id","label","ws","broker","topologies"}'` adds any
// other library configuration (see addLibraryVariant).
// `--baseline DIR` runs, beside each `library-*` server of the echo, handshake, memory and fan-out
// tables, the same server from another checkout of this repository (built: `npm run build` there),
// as `baseline-*`: a change is measured against the code before it in one interleaved run.
// `--instructions` (handshake scenarios only) runs each server under valgrind's callgrind and counts
// the instructions its process executes during the storm (every thread, user space): a count that
// does not move with the machine's load, where the rates and CPU times of a shared machine move by
// 10-30 %. It writes one callgrind file per server and round to --out/instructions/ and no page;
// `test/bench/instructions-summary.mjs` sorts them by what ran the instructions. Needs valgrind.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ChildProcessPeer } from './ipc.mjs';
import { hardware, renderPage, versions } from './page.mjs';
import { formatBytes, median, renderMarkdown, summarize } from './report.mjs';
import {
  addLibraryVariant,
  measureScale,
  PROFILER_OFF,
  SCALE_FULL,
  SCALE_QUICK,
  SCALE_SERVERS,
  scaleScenarios,
} from './scale/scale.mjs';
import {
  BROKER_ONLY_SERVERS,
  brokerOnlyScenarios,
  measureBrokerOnly,
} from './scale/broker-only.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'presence-cluster': { type: 'boolean', default: false },
    rounds: { type: 'string' },
    only: { type: 'string' },
    servers: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'profile-interval': { type: 'string', default: '1000' },
    'no-pin': { type: 'boolean', default: false },
    out: { type: 'string', default: join(here, 'results') },
    history: { type: 'string' },
    variant: { type: 'string', multiple: true, default: [] },
    'broker-rates': { type: 'string' },
    page: { type: 'string' },
    baseline: { type: 'string' },
    instructions: { type: 'boolean', default: false },
  },
});
// The benchmark page: docs/benchmarks.md for a full run; a quick run never touches it.
const pagePath = resolve(
  root,
  flags.page ?? (flags.quick ? join(flags.out, 'benchmarks.md') : 'docs/benchmarks.md'),
);

/** The servers; each runs as `node <script> <args>`. */
const SERVERS = {
  'library-express': {
    script: 'library.mjs',
    args: ['express'],
    label: 'nestjs-ws-routes, Express',
  },
  'library-fastify': {
    script: 'library.mjs',
    args: ['fastify'],
    label: 'nestjs-ws-routes, Fastify',
  },
  'raw-ws': { script: 'raw-ws.mjs', args: [], label: 'raw ws' },
  'raw-ws-nest': {
    script: 'raw-ws.mjs',
    args: ['nest'],
    label: 'raw ws in a Nest process (empty app beside it)',
  },
  'nest-ws': { script: 'nest-gateway.mjs', args: ['raw'], label: '@nestjs/platform-ws gateway' },
  'nest-ws-subscribe': {
    script: 'nest-gateway.mjs',
    args: ['subscribe'],
    label: '@nestjs/platform-ws @SubscribeMessage',
  },
  'library-express-guard': {
    script: 'library.mjs',
    args: ['express', 'guard'],
    label: 'nestjs-ws-routes, Express, 1 async guard',
  },
  'library-fastify-guard': {
    script: 'library.mjs',
    args: ['fastify', 'guard'],
    label: 'nestjs-ws-routes, Fastify, 1 async guard',
  },
  'raw-ws-guard': { script: 'raw-ws.mjs', args: ['guard'], label: 'raw ws, 1 async check' },
  'presence-in-process': {
    script: 'presence.mjs',
    args: ['in-process'],
    label: 'InProcessPresence',
  },
  'presence-redis': {
    script: 'presence.mjs',
    args: ['redis'],
    label: 'RedisPresence, local redis-server',
  },
  'presence-redis-cluster': {
    script: 'presence.mjs',
    args: ['redis-cluster'],
    label: 'RedisPresence, local 3-master Redis Cluster',
  },
  'library-express-middleware': {
    script: 'library.mjs',
    args: ['express', 'middleware'],
    label: 'nestjs-ws-routes, Express, 1 trivial middleware',
  },
  'library-fastify-middleware': {
    script: 'library.mjs',
    args: ['fastify', 'middleware'],
    label: 'nestjs-ws-routes, Fastify, 1 trivial onRequest hook',
  },
  // The same-platform peers: the upgrade also goes through the platform's middleware or hooks.
  'express-ws': { script: 'express-ws.mjs', args: [], label: 'express-ws 5, Express 5' },
  'express-ws-guard': {
    script: 'express-ws.mjs',
    args: ['guard'],
    label: 'express-ws 5, Express 5, 1 async route middleware',
  },
  'express-ws-middleware': {
    script: 'express-ws.mjs',
    args: ['middleware'],
    label: 'express-ws 5, Express 5, 1 trivial middleware',
  },
  'fastify-websocket': {
    script: 'fastify-websocket.mjs',
    args: [],
    label: '@fastify/websocket 11, Fastify 5',
  },
  'fastify-websocket-guard': {
    script: 'fastify-websocket.mjs',
    args: ['guard'],
    label: '@fastify/websocket 11, Fastify 5, 1 async preValidation hook',
  },
  'fastify-websocket-middleware': {
    script: 'fastify-websocket.mjs',
    args: ['middleware'],
    label: '@fastify/websocket 11, Fastify 5, 1 trivial onRequest hook',
  },
  // The peers on the platform instance of an empty Nest app: what Nest's adapter adds to them.
  'express-ws-nest': {
    script: 'express-ws.mjs',
    args: ['nest'],
    label: 'express-ws 5 in a Nest app (Express)',
  },
  'fastify-websocket-nest': {
    script: 'fastify-websocket.mjs',
    args: ['nest'],
    label: '@fastify/websocket 11 in a Nest app (Fastify)',
  },
  // A control for the profile: the same peer, slowed by a busy loop and nothing else.
  'fastify-websocket-spin': {
    script: 'fastify-websocket.mjs',
    args: ['spin'],
    label: '@fastify/websocket 11, Fastify 5, 60 µs busy loop in the route (a control)',
  },
  // Controls: a plain Nest `@Get()` route that hands the socket to ws, nothing of this library;
  // what Nest's adapter and route pipeline cost a WebSocket route by themselves.
  'nest-route-express': {
    script: 'nest-route.mjs',
    args: ['express'],
    label: 'a Nest @Get() route calling ws handleUpgrade, Express (a control)',
  },
  'nest-route-fastify': {
    script: 'nest-route.mjs',
    args: ['fastify'],
    label: 'a Nest @Get() route calling ws handleUpgrade, Fastify (a control)',
  },
};

/**
 * Each handshake row of this library beside the peer that does the same on its platform: the
 * report gives a second ratio, to that peer (`× same-platform peer`).
 */
function peersOf(servers) {
  const peers = {};
  for (const server of servers) {
    const match = server.match(/^(?:library|baseline)-(express|fastify)(-.+)?$/);
    if (!match) continue;
    const peer = `${match[1] === 'express' ? 'express-ws' : 'fastify-websocket'}${match[2] ?? ''}`;
    if (servers.includes(peer)) peers[server] = peer;
  }
  return peers;
}

const ECHO_SERVERS = [
  'library-express',
  'library-fastify',
  'raw-ws',
  'nest-ws',
  'nest-ws-subscribe',
];

const FULL = {
  rounds: 3,
  echo: { connections: 50, warmupMs: 1000, durationMs: 5000 },
  // `warmup`: the handshakes a warm-server storm runs first, not measured.
  storm: { total: 5000, parallel: 50, warmup: 5000 },
  memory: { connections: 10_000 },
  fanOut: { connections: 10_000, repeats: 20 },
  presence: { operations: 10_000, members: 10_000, reads: 200 },
};
const QUICK = {
  rounds: 1,
  echo: { connections: 50, warmupMs: 300, durationMs: 1000 },
  storm: { total: 500, parallel: 50, warmup: 200 },
  memory: { connections: 1000 },
  fanOut: { connections: 1000, repeats: 2 },
  presence: { operations: 500, members: 1000, reads: 10 },
};
const config = structuredClone(flags.quick ? QUICK : FULL);
if (flags.rounds) config.rounds = Number(flags.rounds);
config.scale = structuredClone(flags.quick ? SCALE_QUICK : SCALE_FULL);
if (flags['broker-rates'])
  config.scale.brokerOnlyRates = flags['broker-rates'].split(',').map(Number);

/** Library variants from the command line, per scale-out topology (`everywhere`, `oneInstance`). */
function libraryVariants() {
  const variants = { everywhere: [], oneInstance: [], external: [] };
  if (flags.history) {
    variants.everywhere.push(
      addLibraryVariant({
        id: 'library-redis-history',
        label: 'nestjs-ws-routes, RedisBroker, with history',
        ws: { history: JSON.parse(flags.history) },
      }),
    );
  }
  for (const text of flags.variant) {
    const variant = JSON.parse(text);
    const id = addLibraryVariant(variant);
    for (const topology of variant.topologies ?? ['everywhere', 'oneInstance']) {
      variants[topology].push(id);
    }
  }
  return variants;
}

/**
 * Echo at three sizes, text and binary: a cost per byte (a copy, a decode, an allocation) shows at
 * 16 KiB and 256 KiB, a cost per message at 32 B. The Nest gateways run the text tables at 32 B and
 * 16 KiB (their `@SubscribeMessage` takes JSON text only).
 */
const ECHO_SIZES = [
  { id: '32', size: 32 },
  { id: '16k', size: 16 * 1024 },
  { id: '256k', size: 256 * 1024 },
];
const ECHO_CORE_SERVERS = ['library-express', 'library-fastify', 'raw-ws'];
const ECHO_SCENARIOS = ECHO_SIZES.flatMap(({ id, size }) =>
  [false, true].map((binary) => ({
    id: `echo${id}${binary ? 'bin' : ''}`,
    kind: 'echo',
    size,
    binary,
    servers: [...(binary || size > 16 * 1024 ? ECHO_CORE_SERVERS : ECHO_SERVERS), 'raw-ws-nest'],
    title: `Echo, ${formatBytes(size)} ${binary ? 'binary' : 'text'}, ${config.echo.connections} connections in a closed loop`,
  })),
);

const SCENARIOS = [
  ...ECHO_SCENARIOS,
  {
    id: 'handshake',
    kind: 'storm',
    servers: [
      ...ECHO_SERVERS,
      'express-ws',
      'fastify-websocket',
      'express-ws-nest',
      'fastify-websocket-nest',
      'fastify-websocket-spin',
      'nest-route-express',
      'nest-route-fastify',
    ],
    title: `Handshake storm: ${config.storm.total} connect-upgrade-close, ${config.storm.parallel} in flight`,
  },
  // The same storm on a server that has served `warmup` handshakes already (a reconnect after a
  // network blip, not a deploy): V8 has compiled the request path, so the table is the steady cost.
  {
    id: 'handshakeWarm',
    kind: 'storm',
    warm: true,
    servers: ['library-express', 'library-fastify', 'raw-ws', 'express-ws', 'fastify-websocket'],
    title: `Handshake storm on a warm server: ${config.storm.total} connect-upgrade-close after ${config.storm.warmup} not measured, ${config.storm.parallel} in flight`,
  },
  {
    id: 'handshakeGuard',
    kind: 'storm',
    servers: [
      'library-express-guard',
      'library-fastify-guard',
      'express-ws-guard',
      'fastify-websocket-guard',
      'raw-ws',
      'raw-ws-guard',
    ],
    title: `Handshake storm with one async guard: ${config.storm.total} connect-upgrade-close, ${config.storm.parallel} in flight`,
  },
  {
    id: 'handshakeMiddleware',
    kind: 'storm',
    servers: [
      'library-express-middleware',
      'library-fastify-middleware',
      'express-ws-middleware',
      'fastify-websocket-middleware',
      'raw-ws',
    ],
    title: `Handshake storm with one trivial middleware: ${config.storm.total} connect-upgrade-close, ${config.storm.parallel} in flight`,
  },
  {
    id: 'memory',
    kind: 'memory',
    servers: ECHO_SERVERS,
    title: `Memory per idle connection, ${config.memory.connections} connections (RSS after GC)`,
  },
  {
    id: 'fanOut',
    kind: 'fanOut',
    servers: ['library-express', 'library-fastify', 'raw-ws', 'nest-ws'],
    title: `Fan-out: one 32 B text message to ${config.fanOut.connections} connections`,
  },
  ...scaleScenarios(config.scale, libraryVariants()),
  ...brokerOnlyScenarios(config.scale),
  {
    id: 'presence',
    kind: 'presence',
    servers: [
      'presence-in-process',
      'presence-redis',
      ...(flags['presence-cluster'] ? ['presence-redis-cluster'] : []),
    ],
    title: `Presence: ${config.presence.operations} joins then leaves (100 in flight); list() and count() of one topic at ${config.presence.members} members`,
  },
];
function shell(command) {
  return spawnSync('sh', ['-c', command], { encoding: 'utf8' }).stdout.trim();
}

/** `--baseline DIR`: each `library-*` server also from DIR's build, as `baseline-*`. */
function withBaseline(scenario) {
  if (!flags.baseline || !['echo', 'storm', 'memory', 'fanOut'].includes(scenario.kind))
    return scenario;
  const dir = resolve(flags.baseline);
  const commit = shell(`git -C '${dir}' rev-parse --short HEAD`) || dir;
  const servers = scenario.servers.flatMap((id) => {
    if (!id.startsWith('library-')) return [id];
    const twin = id.replace(/^library-/, 'baseline-');
    SERVERS[twin] ??= {
      ...SERVERS[id],
      path: join(dir, 'test/bench/servers', SERVERS[id].script),
      label: `${SERVERS[id].label} (baseline ${commit})`,
    };
    return [id, twin];
  });
  return { ...scenario, servers };
}

const only = flags.only?.split(',');
const onlyServers = flags.servers?.split(',');
const chosen = SCENARIOS.filter(
  (scenario) => !only || only.includes(scenario.id) || only.includes(scenario.kind),
);
const scenarios = chosen
  .map((scenario) =>
    onlyServers
      ? { ...scenario, servers: scenario.servers.filter((id) => onlyServers.includes(id)) }
      : scenario,
  )
  .map(withBaseline)
  .map((scenario) =>
    scenario.kind === 'storm' ? { ...scenario, peers: peersOf(scenario.servers) } : scenario,
  );
// A server name that no chosen scenario has would otherwise be skipped without a word.
const unknownServers = (onlyServers ?? []).filter(
  (id) => !chosen.some((scenario) => scenario.servers.includes(id)),
);
if (unknownServers.length > 0) {
  console.error(`--servers: no chosen scenario has ${unknownServers.join(', ')}`);
  process.exit(2);
}
if (flags.instructions) {
  const other = scenarios.filter((scenario) => scenario.kind !== 'storm');
  if (!only || other.length > 0 || flags.profile) {
    console.error(
      '--instructions counts handshake storms only: give --only handshake (or handshakeWarm, ' +
        'handshakeGuard, handshakeMiddleware), without --profile',
    );
    process.exit(2);
  }
  if (spawnSync('callgrind_control', ['--version']).error !== undefined) {
    console.error('--instructions needs valgrind (Debian: apt-get install valgrind)');
    process.exit(2);
  }
  // Each run's files alone, so that a glob of the directory is this run.
  rmSync(join(flags.out, 'instructions'), { recursive: true, force: true });
}

// Children get the hard file-descriptor limit (10,000 connections need 10,000 descriptors).
const fdLimit = shell('ulimit -Hn');
const pinning =
  !flags['no-pin'] &&
  availableParallelism() >= 2 &&
  spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const neededFds = Math.max(config.memory.connections, config.fanOut.connections) + 1000;
if (fdLimit !== 'unlimited' && Number(fdLimit) < neededFds) {
  console.warn(`ulimit -Hn is ${fdLimit}; ${neededFds} descriptors are needed: lowering counts`);
  const max = Math.max(100, Number(fdLimit) - 1000);
  config.memory.connections = Math.min(config.memory.connections, max);
  config.fanOut.connections = Math.min(config.fanOut.connections, max);
}

function prefix(cpu) {
  const limit = ['sh', '-c', 'ulimit -n "$0" 2>/dev/null; exec "$@"', fdLimit];
  return pinning ? [...limit, 'taskset', '-c', String(cpu)] : limit;
}

function startServer(id, scenarioId) {
  const server = SERVERS[id];
  const nodeArgs = ['--expose-gc'];
  if (flags.instructions) {
    // Counted only while the storm runs (`callgrind_control -i on/off` in measureStorm).
    const file = join(flags.out, 'instructions', `${scenarioId}-${id}-${Date.now()}.callgrind`);
    mkdirSync(dirname(file), { recursive: true });
    const peer = new ChildProcessPeer(
      server.path ?? join(here, 'servers', server.script),
      server.args,
      {
        prefix: [
          ...prefix(0),
          'valgrind',
          '--tool=callgrind',
          '--instr-atstart=no',
          '--dump-instr=no',
          `--callgrind-out-file=${file}`,
        ],
        nodeArgs,
        label: id,
        // Under valgrind a process runs some 50 times slower.
        timeoutFactor: 20,
      },
    );
    peer.instructionsFile = file;
    instructionFiles.push(file);
    return peer;
  }
  if (flags.profile) {
    nodeArgs.push(
      '--cpu-prof',
      `--cpu-prof-dir=${join(flags.out, 'profiles')}`,
      `--cpu-prof-name=${scenarioId}-${id}-${Date.now()}.cpuprofile`,
      `--cpu-prof-interval=${flags['profile-interval']}`,
    );
  }
  return new ChildProcessPeer(server.path ?? join(here, 'servers', server.script), server.args, {
    prefix: prefix(0),
    nodeArgs,
    label: id,
  });
}

function startLoad() {
  return new ChildProcessPeer(join(here, 'load.mjs'), [], {
    prefix: prefix(1),
    label: 'load',
    // A storm against a server under valgrind lasts as much longer as the server is slower.
    timeoutFactor: flags.instructions ? 20 : 1,
  });
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** One server against one load generator, fresh processes, one scenario: its metrics. */
async function measure(scenario, serverId) {
  if (scenario.kind === 'scale') return measureScale(scenario, serverId, config.scale, prefix);
  if (scenario.kind === 'brokerOnly')
    return measureBrokerOnly(scenario, serverId, config.scale, prefix);
  const server = startServer(serverId, scenario.id);
  if (scenario.kind === 'presence') {
    // Measured inside the server process: no load generator.
    try {
      await server.ready();
      return await server.request('presence', config.presence);
    } finally {
      await server.stop();
    }
  }
  const load = startLoad();
  try {
    const [{ port }] = await Promise.all([server.ready(), load.ready()]);
    const target = { port, path: '/echo' };
    switch (scenario.kind) {
      case 'echo':
        return await measureEcho(server, load, target, scenario);
      case 'storm':
        return await measureStorm(server, load, target, scenario);
      case 'memory':
        return await measureMemory(server, load, target);
      case 'fanOut':
        return await measureFanOut(server, load, target, serverId);
    }
    throw new Error(`unknown scenario kind ${scenario.kind}`);
  } finally {
    await Promise.all([load.stop(), server.stop()]);
    if (server.instructionsFile) keepStormDump(server.instructionsFile);
  }
}

/** The callgrind files of an --instructions run, in the order measured. */
const instructionFiles = [];

/** The callgrind file of the storm takes the server's file name (see measureStorm). */
function keepStormDump(file) {
  if (!existsSync(`${file}.1`)) return;
  rmSync(file, { force: true });
  renameSync(`${file}.1`, file);
  // callgrind writes its files for the owner alone
  chmodSync(file, 0o644);
}

const cpuMicros = (usage) => usage.user + usage.system;

async function measureEcho(server, load, target, { size, binary }) {
  const { connections, warmupMs, durationMs } = config.echo;
  await load.request('echo', { ...target, connections, size, binary });
  await sleep(warmupMs);
  const [cpuStart, markStart] = await Promise.all([server.request('cpu'), load.request('mark')]);
  await sleep(durationMs);
  const [cpuEnd, markEnd] = await Promise.all([server.request('cpu'), load.request('mark')]);
  await load.request('close');
  const seconds = (markEnd.atNs - markStart.atNs) / 1e9;
  const messages = markEnd.echoed;
  if (messages === 0) throw new Error('no message was echoed');
  return {
    messagesPerSecond: messages / seconds,
    p50Us: markEnd.p50Ms * 1000,
    p99Us: markEnd.p99Ms * 1000,
    serverCpuUsPerMessage: (cpuMicros(cpuEnd) - cpuMicros(cpuStart)) / messages,
    serverGcUsPerMessage: ((cpuEnd.gcMs - cpuStart.gcMs) * 1000) / messages,
    serverMarkCompactsPer1k: ((cpuEnd.gcMajor - cpuStart.gcMajor) * 1000) / messages,
    serverCpuShare: (cpuMicros(cpuEnd) - cpuMicros(cpuStart)) / 1e6 / seconds,
    loadCpuShare: (cpuMicros(markEnd.cpu) - cpuMicros(markStart.cpu)) / 1e6 / seconds,
  };
}

async function measureStorm(server, load, target, { warm }) {
  if (warm) {
    const warmup = await load.request('storm', {
      ...target,
      ...config.storm,
      total: config.storm.warmup,
    });
    if (warmup.failed > 0) {
      throw new Error(
        `${warmup.failed} of ${warmup.total} warm-up handshakes failed: ${warmup.firstError}`,
      );
    }
  }
  const counted = server.instructionsFile !== undefined;
  if (counted) execFileSync('callgrind_control', ['--instr=on', String(server.child.pid)]);
  const cpuStart = await server.request('cpu');
  const result = await load.request('storm', { ...target, ...config.storm });
  const cpuEnd = await server.request('cpu');
  if (counted) {
    // The dump goes to <file>.1; the process writes an empty <file> when it exits.
    execFileSync('callgrind_control', ['--dump', String(server.child.pid)]);
    execFileSync('callgrind_control', ['--instr=off', String(server.child.pid)]);
  }
  if (result.failed > 0) {
    throw new Error(`${result.failed} of ${result.total} handshakes failed: ${result.firstError}`);
  }
  // CPU time is less sensitive than the rate to other processes sharing the server's core.
  return {
    handshakesPerSecond: result.perSecond,
    serverCpuUsPerHandshake: (cpuMicros(cpuEnd) - cpuMicros(cpuStart)) / result.total,
  };
}

async function measureMemory(server, load, target) {
  const { connections } = config.memory;
  // A first handshake compiles the whole request path (Nest, the platform, its router): a fixed
  // cost, not one of an open connection. Warm up, close, then read the baseline.
  await load.request('open', { ...target, connections: Math.min(200, connections) });
  await load.request('close');
  await sleep(500);
  const before = await server.request('memory');
  await load.request('open', { ...target, connections });
  await sleep(500);
  const after = await server.request('memory');
  return {
    rssBytesPerConnection: (after.rss - before.rss) / connections,
    heapBytesPerConnection: (after.heapUsed - before.heapUsed) / connections,
  };
}

async function measureFanOut(server, load, target, serverId) {
  const { connections, repeats } = config.fanOut;
  const modes = SERVERS_WITH_BROADCAST.has(serverId) ? ['broadcast', 'loop'] : ['loop'];
  await load.request('open', { ...target, connections });
  await sleep(300);
  const runs = Object.fromEntries(
    modes.map((mode) => [mode, { deliveredPerSecond: [], sendMs: [] }]),
  );
  const data = 'x'.repeat(32);
  for (let i = 0; i < repeats; i++) {
    for (const mode of i % 2 === 0 ? modes : modes.toReversed()) {
      await load.request('arm');
      const sent = await server.request('fanOut', { mode, data });
      const { received, lastNs } = await load.request('collect', {}, 30_000);
      if (sent.sent !== connections || received !== connections) {
        throw new Error(
          `fan-out ${mode}: sent ${sent.sent}, received ${received} of ${connections}`,
        );
      }
      runs[mode].deliveredPerSecond.push(connections / ((lastNs - sent.startNs) / 1e9));
      runs[mode].sendMs.push((sent.flushedNs - sent.startNs) / 1e6);
    }
  }
  return Object.fromEntries(
    Object.entries(runs).map(([mode, run]) => [
      mode,
      { deliveredPerSecond: median(run.deliveredPerSecond), sendMs: median(run.sendMs) },
    ]),
  );
}
const SERVERS_WITH_BROADCAST = new Set(['library-express', 'library-fastify']);

const loadAverage = () => shell('cat /proc/loadavg').split(' ').slice(0, 3).join(' ');
const loadAverageAtStart = loadAverage();

function machine() {
  const wsVersion = JSON.parse(
    readFileSync(join(root, 'node_modules/ws/package.json'), 'utf8'),
  ).version;
  return {
    date: new Date().toISOString(),
    nproc: Number(shell('nproc')) || availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    ws: wsVersion,
    pinned: pinning ? 'server on CPU 0, load generator on CPU 1 (taskset)' : 'not pinned',
    loadAverageAtStart,
    loadAverage: loadAverage(),
  };
}

/** What the report keeps of a scenario (the scale-out ones add their baseline and topology). */
function scenarioInReport(scenario) {
  const { id, kind, title, servers, baseline, baselineTitle, topology, size, binary, peers } =
    scenario;
  return { id, kind, title, servers, baseline, baselineTitle, topology, size, binary, peers };
}

async function main() {
  const started = Date.now();
  if (!flags['no-build']) {
    console.log('Building the library (tsc -p src/tsconfig.build.json)...');
    execFileSync(
      process.execPath,
      ['node_modules/typescript/bin/tsc', '-p', 'src/tsconfig.build.json'],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
  }
  // Topic history (history.mjs, its own report: results/history.md), after the others.
  const runHistory = () =>
    execFileSync(
      process.execPath,
      [join(here, 'history.mjs'), ...(flags.quick ? ['--quick'] : []), '--out', flags.out],
      { cwd: root, stdio: 'inherit' },
    );
  if (only && scenarios.length === 0 && only.includes('history')) return runHistory();
  const samples = {};
  for (const scenario of scenarios) {
    samples[scenario.id] = {};
    for (let round = 0; round < config.rounds; round++) {
      // Rotate the order each round so that no server always runs first.
      const order = scenario.servers.map(
        (_, i) => scenario.servers[(i + round) % scenario.servers.length],
      );
      for (const serverId of order) {
        process.stdout.write(`${scenario.id} round ${round + 1}/${config.rounds} ${serverId}... `);
        const result = await measure(scenario, serverId);
        console.log(
          JSON.stringify(result, (_, v) => (typeof v === 'number' ? +v.toPrecision(4) : v)),
        );
        (samples[scenario.id][serverId] ??= []).push(result);
      }
    }
  }
  const report = {
    machine: machine(),
    mode: flags.quick ? 'quick' : 'full',
    config,
    servers: Object.fromEntries(
      Object.entries({ ...SERVERS, ...SCALE_SERVERS, ...BROKER_ONLY_SERVERS }).map(([id, s]) => [
        id,
        s.label,
      ]),
    ),
    scenarios: scenarios.map(scenarioInReport),
    samples,
    profilerOff: PROFILER_OFF,
    durationSeconds: Math.round((Date.now() - started) / 1000),
  };
  if (flags.instructions) {
    // Rates and CPU times under valgrind say nothing of the servers': no table, no page.
    const files = instructionFiles.filter((file) => existsSync(file));
    console.log(
      `\nInstruction counts of the storms (one file per server and round):\n` +
        `node test/bench/instructions-summary.mjs ${files.map((file) => relative(process.cwd(), file)).join(' ')} ` +
        `--handshakes ${config.storm.total}`,
    );
    return;
  }
  report.summary = summarize(report);
  const markdown = renderMarkdown(report);
  mkdirSync(flags.out, { recursive: true });
  const name = flags.quick ? 'quick' : 'latest';
  writeFileSync(join(flags.out, `${name}.md`), markdown);
  writeFileSync(join(flags.out, `${name}.json`), JSON.stringify(report, null, 2) + '\n');
  console.log('\n' + markdown);
  console.log(`Written to ${join(flags.out, `${name}.md`)} and ${name}.json`);
  const historyFile = join(flags.out, 'history.md');
  let history;
  if (!only || only.includes('history')) {
    rmSync(historyFile, { force: true });
    try {
      runHistory();
    } catch (error) {
      // the other tables still make the page; it says the history tables are missing
      console.error(`topic history not measured: ${error.message}`);
    }
    history = existsSync(historyFile)
      ? readFileSync(historyFile, 'utf8')
      : 'Not measured in this run: `test/bench/history.mjs` failed (see the run’s output).\n';
  }
  const page = renderPage(report, {
    versions: versions(root, relative(root, pagePath)),
    hardware: hardware(),
    only,
    history,
  });
  mkdirSync(dirname(pagePath), { recursive: true });
  writeFileSync(pagePath, page);
  console.log(`Benchmark page written to ${relative(root, pagePath)}`);
}

await main();
