// The benchmark page (docs/benchmarks.md) that `npm run bench` rewrites on every full run: the
// run's tables, the machine, the versions, the date and the method. Earlier runs live in git
// history only. A `--quick` run writes it to its --out directory instead.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { renderMarkdown } from './report.mjs';

function git(root, args) {
  const result = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : '';
}

function versionOf(root, name) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'))
      .version;
  } catch {
    return 'not installed';
  }
}

/** What the page says of the software measured: versions and the library's commit. */
export function versions(root, page) {
  const commit = git(root, ['rev-parse', '--short=12', 'HEAD']) || 'unknown';
  // The page itself is rewritten by each run: a change to it alone is not a change measured.
  const dirty = git(root, ['status', '--porcelain', '--', '.', `:!${page}`]) !== '';
  return {
    node: process.version,
    ws: versionOf(root, 'ws'),
    nest: versionOf(root, '@nestjs/core'),
    express: versionOf(root, 'express'),
    fastify: versionOf(root, 'fastify'),
    expressWs: versionOf(root, 'express-ws'),
    fastifyWebsocket: versionOf(root, '@fastify/websocket'),
    bufferutil: versionOf(root, 'bufferutil'),
    commit: dirty ? `${commit} with uncommitted changes` : commit,
  };
}

/** The machine, as the page shows it. */
export function hardware() {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}

const KIND_METHOD = {
  echo: (config) =>
    `**Echo.** The load generator opens ${config.echo.connections} connections to \`/echo\` ` +
    '(`EchoHandler` on one route of a minimal Nest app; raw `ws` echoes in its `message` listener) ' +
    'and keeps one message in flight on each: the next goes when the echo is back (a closed loop). ' +
    `After ${config.echo.warmupMs} ms of warm-up it counts the echoes of ${config.echo.durationMs} ms. ` +
    'msgs/s is that count over the time; server CPU µs/msg is the server process’s user + system ' +
    'CPU time (`process.cpuUsage()`, every thread of the process) over the same window, divided by ' +
    'the echoes; server GC pauses µs/msg is the main thread’s time in GC pauses (`PerformanceObserver` ' +
    'of `gc` entries) over the same echoes (V8’s concurrent marking threads count in the CPU, not ' +
    'here); p50/p99 are round trips seen by the load generator. Text frames carry valid UTF-8 ' +
    '(ws validates it), binary frames the same bytes.',
  storm: (config) =>
    `**Handshake storm.** ${config.storm.total} connections, ${config.storm.parallel} in flight: ` +
    'each connects, upgrades, sends a close frame and counts once the server closed it. ' +
    'CPU µs/handshake is the server’s CPU time over the storm divided by the handshakes. ' +
    `“On a warm server” runs ${config.storm.warmup} handshakes first, not measured: the code of ` +
    'the request path is compiled by then (the other storms start on a fresh process, where V8 ' +
    'compiling that code is part of the cost). ' +
    'Beside raw `ws`, each platform’s peer: `express-ws` on Express (its own `ws` 7 upgrades, then ' +
    'the Express stack runs with a dummy response) and `@fastify/websocket` on Fastify (the router ' +
    'and hooks run, then `ws` upgrades), each with one echo route; `× same-platform peer` is this ' +
    'library’s row over that peer’s (Express over `express-ws`, Fastify over `@fastify/websocket`), ' +
    'with the same middleware, hook or async check in both. “One async guard” is `@UseGuards()` ' +
    'with an `async canActivate()`; the peers get an async route middleware (`express-ws`) or an ' +
    'async `preValidation` hook (`@fastify/websocket`), raw `ws` an `await` before `handleUpgrade`. ' +
    '“One trivial middleware” is `app.use((req, res, next) => next())` on Express and one ' +
    '`onRequest` hook on Fastify. The controls: each peer on the platform instance of an empty ' +
    'Nest app (what Nest’s adapter adds to it), and “a Nest @Get() route calling ws handleUpgrade” ' +
    '(the upgrade dispatched into the app as this library does, into a plain controller route ' +
    'that hands the socket to `ws`, with nothing of this library: what Nest’s adapter and route ' +
    'pipeline cost a WebSocket route by themselves).',
  memory: (config) =>
    `**Memory.** 200 connections opened and closed first (the first handshake compiles the request ` +
    `path), then RSS after three forced GCs, ${config.memory.connections} idle connections opened, ` +
    'RSS after three forced GCs again: the difference divided by the connections.',
  fanOut: (config) =>
    `**Fan-out.** ${config.fanOut.connections} idle connections; the server sends one 32 B text ` +
    `message to each, ${config.fanOut.repeats} times per process (\`registry.broadcast\` and a plain ` +
    'send loop alternating); delivered msgs/s runs from the call to the last message received.',
  scale: () =>
    '**Scale-out.** N instances of each server on one fresh `redis-server` of their own, clients on ' +
    'every instance, publishers on every instance or in one process of their own ' +
    '(`test/bench/scale/`): publications/s delivered, publish-to-deliver latency, CPU per instance ' +
    'and the broker’s part of it (a CPU profile of each instance). Ratios are to socket.io with its ' +
    'Redis adapter in the same run.',
  brokerOnly: () =>
    '**Broker alone.** The same instances without WebSocket clients: what the broker spends per ' +
    'publication, its idle cost measured before each window and taken off.',
  presence: (config) =>
    `**Presence.** Measured inside the server process: ${config.presence.operations} joins then ` +
    `leaves, 100 in flight; \`list()\` and \`count()\` of one topic at ${config.presence.members} members.`,
};

function method(report) {
  const { config, machine } = report;
  const kinds = [...new Set(report.scenarios.map(({ kind }) => kind))];
  return [
    '## Method',
    '',
    '- Every server runs in a fresh Node process of its own for each measurement (`--expose-gc`), ' +
      'the load generator in another; nothing else of the bench runs meanwhile.',
    `- Pinning: ${machine.pinned}.`,
    `- ${config.rounds} round(s), interleaved: each round measures every server of a table in turn, ` +
      'the order rotated by one each round, so that a slow spell of the machine falls on all of ' +
      'them. A figure is the median over the rounds, with its min–max; a ratio is a median over ' +
      'the raw `ws` median of the same run (socket.io’s in the scale-out tables).',
    '- Load generator (`test/bench/load.mjs`): one Node process on raw `net` sockets speaking just ' +
      'enough RFC 6455 to drive the servers: the frames it sends are built and masked once, the ' +
      'frames it receives are parsed by header and never copied, so that it costs less than the ' +
      'server it measures.',
    '- The machine may be shared: rates move with whatever else runs, CPU time per operation much ' +
      'less. Read CPU per message as the steadier figure and msgs/s with its min–max.',
    '- Run it yourself: `npm run bench` (this page), `npm run bench -- --quick` (a smoke run written ' +
      'to `test/bench/results/`), `--only echo,handshake,memory,fanOut` for some tables, ' +
      '`--profile` for a `.cpuprofile` per server (`node test/bench/profile-summary.mjs FILE`).',
    '',
    ...kinds.filter((kind) => KIND_METHOD[kind]).flatMap((kind) => [KIND_METHOD[kind](config), '']),
  ];
}

/** The whole page: header, machine, versions, method, the run's tables and targets, history. */
export function renderPage(report, { versions: v, hardware: h, only, history }) {
  const { machine } = report;
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${machine.date.slice(0, 16).replace('T', ' ')} UTC ` +
      `(${report.mode} mode, ${Math.round(report.durationSeconds / 60)} min). Each run rewrites this ` +
      'page; earlier runs are in its git history.' +
      (only ? ` This run measured only: ${only.join(', ')}.` : ''),
    '',
    '## Machine and versions',
    '',
    `- Machine: ${h.cores} cores, ${h.cpu}, ${h.memoryGiB} GiB of memory; load average ` +
      `${machine.loadAverageAtStart} at the start, ${machine.loadAverage} at the end.`,
    `- Node ${v.node}, ws ${v.ws} (bufferutil ${v.bufferutil}), @nestjs/core ${v.nest}, ` +
      `express ${v.express}, fastify ${v.fastify}, express-ws ${v.expressWs}, ` +
      `@fastify/websocket ${v.fastifyWebsocket}.`,
    `- nestjs-ws-routes at commit ${v.commit}, built by the run (\`dist/\`).`,
    '',
    ...method(report),
    '## Results',
    '',
    renderMarkdown(report).split('\n').slice(2).join('\n').trimEnd(),
    '',
  ];
  if (history) lines.push('## Topic history', '', history.trimEnd(), '');
  return lines.join('\n');
}
