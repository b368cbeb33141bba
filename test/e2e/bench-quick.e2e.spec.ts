import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/process.js';

// Proves `npm run bench -- --quick` works end to end (every server, every scenario, the scale-out
// ones with their own redis-server and several instances per server); asserts nothing about speed.
// The global setup has built dist/ already, hence --no-build.
/** `node ARGS` in the repository: its exit code and its output. */
function runNode(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      args,
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (child.exitCode ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

/** A quick run of the handshake storm, one round, for `servers` (built already: --no-build). */
function quickStorm(servers: string): string[] {
  return [
    'test/bench/run.mjs',
    '--quick',
    '--no-build',
    '--only',
    'handshake',
    '--servers',
    servers,
    '--rounds',
    '1',
  ];
}

describe('benchmark, quick mode', () => {
  const out = mkdtempSync(join(tmpdir(), 'bench-quick-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs every server through every scenario and writes the Markdown table and JSON', async () => {
    // A quick run writes its benchmark page to --out; the committed page is a full run's.
    const committedPage = join(ROOT, 'docs', 'benchmarks.md');
    const pageBefore = existsSync(committedPage) ? readFileSync(committedPage, 'utf8') : undefined;
    const { code, output } = await new Promise<{ code: number | null; output: string }>(
      (resolve) => {
        const child = execFile(
          process.execPath,
          ['test/bench/run.mjs', '--quick', '--no-build', '--out', out],
          { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
          (error, stdout, stderr) =>
            resolve({ code: error ? (child.exitCode ?? 1) : 0, output: stdout + stderr }),
        );
      },
    );
    if (code !== 0) console.error(output);
    expect(code).toBe(0);

    const markdown = readFileSync(join(out, 'quick.md'), 'utf8');
    const report = JSON.parse(readFileSync(join(out, 'quick.json'), 'utf8'));
    const titles = [
      '### Echo, 32 B text',
      '### Echo, 32 B binary',
      '### Echo, 16 KiB text',
      '### Echo, 16 KiB binary',
      '### Echo, 256 KiB text',
      '### Echo, 256 KiB binary',
      '### Handshake storm: ',
      '### Handshake storm on a warm server: ',
      '### Handshake storm with one async guard',
      '### Handshake storm with one trivial middleware',
      '### Memory per idle connection',
      '### Fan-out: one 32 B text message',
      '### Scale-out: 3 instances on one Redis',
      '### Scale-out: 4 instances on one Redis',
      '### Scale-out, external publisher: 4 instances on one Redis',
      '### Scale-out, external publisher, paced (each publication a write of its own): 4 instances',
      '### Broker alone: 4 instances on one Redis',
      '| × socket.io streams |',
      '| × socket.io sharded |',
      '| × one channel |',
      'Profiler overhead (',
      '### Presence: ',
      '### Targets',
    ];
    for (const title of titles) expect(markdown).toContain(title);
    for (const scenario of report.scenarios) {
      const rows = report.summary[scenario.id];
      expect(rows.map((row: { server: string }) => row.server)).toEqual(
        expect.arrayContaining(scenario.servers),
      );
      for (const server of scenario.servers) {
        expect(markdown).toContain(`| ${report.servers[server]}`);
      }
    }
    const fanOutRows = report.summary.fanOut.map(
      (row: { server: string; mode: string }) => `${row.server}:${row.mode}`,
    );
    expect(fanOutRows).toContain('library-express:broadcast');
    expect(fanOutRows).toContain('library-express:loop');
    // Every echo table, every size and type, has both platforms and raw ws, each with a positive
    // ratio of msgs/s and of CPU per message: each server really echoed.
    const echoes = report.scenarios.filter(
      (scenario: { kind: string }) => scenario.kind === 'echo',
    );
    expect(
      echoes.map(({ size, binary }: { size: number; binary: boolean }) => `${size}:${binary}`),
    ).toEqual(['32:false', '32:true', '16384:false', '16384:true', '262144:false', '262144:true']);
    for (const echo of echoes) {
      const rows = report.summary[echo.id];
      expect(rows.map((row: { server: string }) => row.server)).toEqual(
        expect.arrayContaining(['library-express', 'library-fastify', 'raw-ws', 'raw-ws-nest']),
      );
      // Every row also against raw ws in a Nest process, and with its full GCs counted.
      for (const row of rows) {
        expect(row.metrics.messagesPerSecond.ratio).toBeGreaterThan(0);
        expect(row.metrics.serverCpuUsPerMessage.ratio).toBeGreaterThan(0);
        expect(row.metrics.messagesPerSecond.versus).toBeGreaterThan(0);
        expect(row.metrics.serverCpuUsPerMessage.versus).toBeGreaterThan(0);
        expect(row.metrics.serverMarkCompactsPer1k.median).toBeGreaterThanOrEqual(0);
      }
    }
    // The handshake tables: each platform's peer beside this library, and this library's rows
    // with a second ratio, to that peer; the added cost of one step for both.
    const peers = {
      handshake: { 'library-express': 'express-ws', 'library-fastify': 'fastify-websocket' },
      handshakeGuard: {
        'library-express-guard': 'express-ws-guard',
        'library-fastify-guard': 'fastify-websocket-guard',
      },
      handshakeMiddleware: {
        'library-express-middleware': 'express-ws-middleware',
        'library-fastify-middleware': 'fastify-websocket-middleware',
      },
    };
    for (const [id, pairs] of Object.entries(peers)) {
      const scenario = report.scenarios.find((s: { id: string }) => s.id === id);
      expect(scenario.peers).toEqual(pairs);
      for (const [server, peer] of Object.entries(pairs)) {
        const rows = report.summary[id];
        const row = rows.find((r: { server: string }) => r.server === server);
        expect(rows.find((r: { server: string }) => r.server === peer)).toBeDefined();
        expect(row.metrics.handshakesPerSecond.peer).toBeGreaterThan(0);
        expect(row.metrics.serverCpuUsPerHandshake.peer).toBeGreaterThan(0);
      }
    }
    expect(markdown).toContain('| × raw ws | × raw ws in a Nest process |');
    expect(markdown).toContain('| server Mark-Compacts per 1,000 msgs |');
    expect(markdown).toContain('| × raw ws | × same-platform peer |');
    expect(markdown).toContain('| express-ws 5, Express 5 |');
    expect(markdown).toContain('| @fastify/websocket 11, Fastify 5 |');
    expect(markdown).toContain('### What one step adds to a handshake');
    const stepCosts = report.summary.stepCosts.map(
      (row: { server: string; steps: Record<string, unknown> }) =>
        `${row.server}:${Object.keys(row.steps).join(',')}`,
    );
    expect(stepCosts).toEqual([
      'library-express:middleware,guard',
      'express-ws:middleware,guard',
      'library-fastify:middleware,guard',
      'fastify-websocket:middleware,guard',
      'raw-ws:guard',
    ]);
    const targets = report.summary.targets.map(({ what }: { what: string }) => what);
    expect(targets).toContain(
      'Fastify: handshakes/s >= 1.00x @fastify/websocket (no middleware, no guard)',
    );
    expect(targets).toContain('Fastify: echo msgs/s at 256 KiB binary >= 0.95x raw ws');
    expect(targets).toContain('Express: server CPU/msg at 16 KiB text <= 1.05x raw ws');
    // The benchmark page: the run's tables with the machine, the versions and the method.
    const page = readFileSync(join(out, 'benchmarks.md'), 'utf8');
    expect(page).toMatch(/^# Benchmarks\n/);
    expect(page).toMatch(/- Machine: \d+ cores, .+, [\d.]+ GiB of memory/);
    expect(page).toMatch(/- Node v\d+\.\d+\.\d+, ws \d+\.\d+\.\d+ .*@nestjs\/core \d+/);
    expect(page).toMatch(/- nestjs-ws-routes at commit [0-9a-f]{12}/);
    expect(page).toContain('## Method');
    expect(page).toContain('**Echo.**');
    expect(page).toContain('### Echo, 256 KiB binary');
    expect(page).toContain('## Topic history');
    const pageAfter = existsSync(committedPage) ? readFileSync(committedPage, 'utf8') : undefined;
    expect(pageAfter).toBe(pageBefore);
    // Scale-out: this library and socket.io on every topology, every instance measured, every
    // publication delivered to each of its followers (the harness counts what it expects).
    const scale = report.scenarios.filter(
      (scenario: { kind: string }) => scenario.kind === 'scale',
    );
    expect(scale.map((scenario: { servers: string[] }) => scenario.servers)).toEqual([
      ['library-redis', 'library-redis-interest', 'socketio-streams'],
      [
        'library-redis',
        'library-redis-interest',
        'library-redis-interest-unprofiled',
        'socketio-sharded',
      ],
      ['library-redis', 'library-redis-interest'],
      ['library-redis', 'library-redis-interest'],
    ]);
    for (const scenario of scale) {
      for (const server of scenario.servers) {
        const [run] = report.samples[scenario.id][server];
        expect(run.published).toBeGreaterThan(0);
        expect(run.received).toBe(run.expected);
        expect(run.instanceCpuShares).toHaveLength(scenario.topology.instances);
        expect(run.p99Ms).toBeGreaterThan(0);
        // Every instance profiled its window, unless told not to; where the instances publish,
        // through their broker, broker code is in the samples.
        const profiled = !server.endsWith('-unprofiled');
        const shares: { busySamples: number }[] = run.brokerShares ?? [];
        expect(shares).toHaveLength(profiled ? scenario.topology.instances : 0);
        expect(shares.filter(({ busySamples }) => busySamples === 0)).toEqual([]);
        expect(run.brokerCpuShare === null).toBe(!profiled);
        const publishing = profiled && !scenario.topology.external;
        expect(!publishing || run.brokerCpuShare > 0).toBe(true);
      }
      // Only this library says what its broker took in from Redis (stats().broker.received).
      const [library] = report.samples[scenario.id]['library-redis'];
      expect(library.brokerReceivedPerPublication).toBeGreaterThan(0);
      const [baseline] = report.samples[scenario.id][scenario.baseline];
      expect(baseline.brokerReceivedPerPublication === null).toBe(
        scenario.baseline.startsWith('socketio'),
      );
      for (const row of report.summary[scenario.id]) {
        expect(row.metrics.publicationsPerSecond.ratio).toBeGreaterThan(0);
      }
    }
    // With the publisher outside, a one-channel instance takes in every publication, an
    // interest-routing one only its topics' (a quarter).
    const external = scale.find((scenario: { id: string }) => scenario.id.endsWith('ext'));
    const [one, interest] = ['library-redis', 'library-redis-interest'].map(
      (server) => report.samples[external.id][server][0].brokerReceivedPerPublication,
    );
    expect(interest).toBeLessThan(one / 2);
    // The broker alone: every publication of a followed topic delivered once, the broker's CPU
    // measured, and with one publisher outside, interest routing takes in a quarter.
    const brokerOnly = report.scenarios.filter(
      (scenario: { kind: string }) => scenario.kind === 'brokerOnly',
    );
    expect(brokerOnly.map(({ id }: { id: string }) => id)).toEqual([
      'broker4x500',
      'broker4x500ext',
      'broker4x500extpaced',
    ]);
    for (const scenario of brokerOnly) {
      const [channelRun, interestRun] = ['broker-channel', 'broker-interest'].map(
        (server) => report.samples[scenario.id][server][0],
      );
      for (const run of [channelRun, interestRun]) {
        expect(run.deliveredShare).toBe(1);
        expect(run.brokerCpuUsPerPublication).toBeGreaterThan(0);
      }
      expect(interestRun.receivedPerPublication).toBeLessThan(
        channelRun.receivedPerPublication / 2,
      );
    }
    // The scale-out part starts 33 server instances, 2 publishers and 9 redis-servers: about a
    // minute on a quiet machine, more when other jobs share the 2 cores; the broker-only tables
    // another half minute; the six echo tables (three sizes, text and binary) about a minute.
    // Topic history: in process, resume vs live, and three instances over Redis next to socket.io.
    const history = readFileSync(join(out, 'history.md'), 'utf8');
    expect(history).toMatch(
      /\| deliveries\/s \(median of \d+\) \| [\d.e+]+ \| [\d.e+]+ \| [\d.e+]+x \|/,
    );
    expect(history).toContain('| nestjs-ws-routes, topic with history | ');
    expect(history).toContain('| socket.io + @socket.io/redis-streams-adapter (recovery on) | ');
  }, 600_000);

  // `--baseline DIR` adds each library row built from another checkout (here this one: the rows
  // must only exist), and `--profile --profile-interval` a profile per server.
  it('runs --baseline rows beside the library rows, and --profile (with --profile-interval) writes a profile per server', async () => {
    const dir = join(out, 'baseline');
    const { code, output } = await runNode([
      ...quickStorm('library-express,express-ws'),
      '--baseline',
      ROOT,
      '--profile',
      '--profile-interval',
      '500',
      '--out',
      dir,
    ]);
    if (code !== 0) console.error(output);
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'quick.json'), 'utf8'));
    const servers = report.summary.handshake.map((row: { server: string }) => row.server);
    expect(servers).toEqual(
      expect.arrayContaining(['library-express', 'baseline-express', 'express-ws']),
    );
    expect(readFileSync(join(dir, 'quick.md'), 'utf8')).toMatch(
      /\| nestjs-ws-routes, Express \(baseline [0-9a-f]+\) \| [\d,]+ \|/,
    );
    const profiles = readdirSync(join(dir, 'profiles'));
    expect(profiles.filter((name) => name.endsWith('.cpuprofile'))).toHaveLength(3);
  }, 300_000);

  // `--instructions` runs each server under valgrind's callgrind and counts what its process executes
  // during the storm; instructions-summary.mjs sorts the counts into what ran them, a column a file.
  // Without valgrind it is reported as skipped, its name saying what to install; with CI=true it fails.
  const noValgrind =
    !process.env.CI && spawnSync('callgrind_control', ['--version']).error !== undefined;
  it.skipIf(noValgrind)(
    `counts the instructions of a storm with --instructions, and instructions-summary.mjs sums them up per handshake${noValgrind ? ' [skipped: no valgrind; apt-get install valgrind]' : ''}`,
    async () => {
      const dir = join(out, 'instructions');
      const bench = await runNode([
        ...quickStorm('raw-ws,library-express'),
        '--instructions',
        '--out',
        dir,
      ]);
      if (bench.code !== 0) console.error(bench.output);
      expect(bench.code).toBe(0);
      // No table and no page from rates taken under valgrind; the command that sums the counts up.
      expect(existsSync(join(dir, 'benchmarks.md'))).toBe(false);
      expect(existsSync(join(dir, 'quick.md'))).toBe(false);
      expect(bench.output).toMatch(
        /node test\/bench\/instructions-summary\.mjs \S+\.callgrind \S+\.callgrind --handshakes 500/,
      );
      const files = readdirSync(join(dir, 'instructions')).toSorted();
      expect(files).toEqual([
        expect.stringMatching(/^handshake-library-express-\d+\.callgrind$/),
        expect.stringMatching(/^handshake-raw-ws-\d+\.callgrind$/),
      ]);
      const summary = await runNode([
        'test/bench/instructions-summary.mjs',
        ...files.map((file) => join(dir, 'instructions', file)),
        '--handshakes',
        '500',
      ]);
      expect(summary.code).toBe(0);
      const total = summary.output.match(/^in all\s+([\d,]+)\s+([\d,]+)$/m);
      expect(total).not.toBeNull();
      const [library, raw] = [total![1], total![2]].map((count) =>
        Number(count.replaceAll(',', '')),
      );
      // A handshake is some hundreds of thousands of instructions; the library runs more than raw ws.
      expect(raw).toBeGreaterThan(100_000);
      expect(library).toBeGreaterThan(raw);
      expect(summary.output).toMatch(/^JavaScript, compiled .*\s[\d,]+\s+[\d,]+$/m);

      // Anything but storms is refused, with the reason.
      const refused = await runNode([
        'test/bench/run.mjs',
        '--quick',
        '--instructions',
        '--out',
        dir,
      ]);
      expect(refused.code).toBe(2);
      expect(refused.output).toContain('--instructions counts handshake storms only');
      const unknown = await runNode([...quickStorm('raw-ws,no-such-server'), '--out', dir]);
      expect(unknown.code).toBe(2);
      expect(unknown.output).toContain('--servers: no chosen scenario has no-such-server');
      const notCallgrind = await runNode([
        'test/bench/instructions-summary.mjs',
        join(dir, 'instructions', files[0]),
        join(ROOT, 'package.json'),
        '--handshakes',
        '500',
      ]);
      expect(notCallgrind.code).toBe(2);
      expect(notCallgrind.output).toContain('package.json: not a callgrind file');
    },
    600_000,
  );
});
