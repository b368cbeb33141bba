// Turns the samples of run.mjs into medians, spreads, ratios to raw ws (or to a scenario's own
// baseline: socket.io in the scale-out scenarios; in the handshake tables also to this library's
// same-platform peer) and target checks, and renders them as Markdown.

const BASELINE = 'raw-ws';

/**
 * What each scenario kind reports: metric key, column title, digits, whether it gets a ratio to the
 * baseline, (`range: false`) no min–max column, and (`versus`) a ratio to another row of the same
 * table, the one-channel RedisBroker's (a column of its own when it is not the baseline).
 */
const ONE_CHANNEL = { server: 'library-redis', title: 'one channel' };
// The same raw ws server in a process that also runs an empty Nest app: what a Nest-sized heap
// costs the same message path (V8's full collections, see docs/performance.md).
const RAW_WS_IN_NEST = { server: 'raw-ws-nest', title: 'raw ws in a Nest process' };
const METRICS = {
  echo: [
    { key: 'messagesPerSecond', title: 'msgs/s', ratio: true, versus: RAW_WS_IN_NEST },
    { key: 'p50Us', title: 'p50 µs' },
    { key: 'p99Us', title: 'p99 µs' },
    {
      key: 'serverCpuUsPerMessage',
      title: 'server CPU µs/msg',
      ratio: true,
      digits: 2,
      versus: RAW_WS_IN_NEST,
    },
    { key: 'serverGcUsPerMessage', title: 'server GC pauses µs/msg', digits: 2 },
    { key: 'serverMarkCompactsPer1k', title: 'server Mark-Compacts per 1,000 msgs', digits: 2 },
    { key: 'loadCpuShare', title: 'load gen. CPU', percent: true },
  ],
  storm: [
    { key: 'handshakesPerSecond', title: 'handshakes/s', ratio: true },
    { key: 'serverCpuUsPerHandshake', title: 'server CPU µs/handshake', ratio: true, digits: 1 },
  ],
  memory: [
    {
      key: 'rssBytesPerConnection',
      title: 'RSS KiB/conn',
      ratio: true,
      scale: 1 / 1024,
      digits: 2,
    },
    { key: 'heapBytesPerConnection', title: 'heap KiB/conn', scale: 1 / 1024, digits: 2 },
  ],
  fanOut: [
    { key: 'deliveredPerSecond', title: 'delivered msgs/s', ratio: true },
    { key: 'sendMs', title: 'server send ms', digits: 2 },
  ],
  scale: [
    { key: 'publicationsPerSecond', title: 'publications/s delivered', ratio: true },
    { key: 'p50Ms', title: 'p50 ms', ratio: true, range: false, digits: 2 },
    { key: 'p99Ms', title: 'p99 ms', ratio: true, range: false, digits: 1 },
    {
      key: 'instanceCpuShare',
      title: 'CPU per instance',
      ratio: true,
      range: false,
      percent: true,
    },
    {
      key: 'instanceCpuUsPerPublication',
      title: 'CPU µs per instance per publication',
      ratio: true,
      range: false,
      digits: 1,
    },
    {
      key: 'brokerCpuShare',
      title: 'broker CPU per instance',
      ratio: true,
      range: false,
      percent: true,
      versus: ONE_CHANNEL,
    },
    {
      key: 'brokerCpuUsPerPublication',
      title: 'broker CPU µs per instance per publication',
      ratio: true,
      range: false,
      digits: 1,
      versus: ONE_CHANNEL,
    },
    { key: 'redisCpuUsPerPublication', title: 'Redis CPU µs/publication', digits: 1 },
    {
      key: 'brokerReceivedPerPublication',
      title: 'broker messages in per instance per publication',
      digits: 2,
    },
    { key: 'deliveredShare', title: 'delivered', percent: true },
    { key: 'clientsCpuShare', title: 'clients CPU', percent: true },
  ],
  brokerOnly: [
    { key: 'brokerCpuShare', title: 'broker CPU per instance', ratio: true, percent: true },
    {
      key: 'brokerCpuUsPerPublication',
      title: 'broker CPU µs per instance per publication',
      ratio: true,
      digits: 2,
    },
    { key: 'idleCpuShare', title: 'idle CPU per instance (taken off)', percent: true },
    {
      key: 'receivedPerPublication',
      title: 'messages in per instance per publication',
      digits: 2,
    },
    { key: 'redisCpuUsPerPublication', title: 'Redis CPU µs/publication', digits: 1 },
    { key: 'deliveredShare', title: 'delivered', percent: true },
  ],
  presence: [
    { key: 'joinUsPerOp', title: 'join µs/op', digits: 1 },
    { key: 'joinCpuUsPerOp', title: 'join CPU µs/op', digits: 1 },
    { key: 'leaveUsPerOp', title: 'leave µs/op', digits: 1 },
    { key: 'leaveCpuUsPerOp', title: 'leave CPU µs/op', digits: 1 },
    { key: 'listP50Ms', title: 'list p50 ms', digits: 3 },
    { key: 'listP99Ms', title: 'list p99 ms', digits: 3 },
    { key: 'countUs', title: 'count µs', digits: 1 },
  ],
};

/** The median of `values`. */
export function median(values) {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function stats(values) {
  // A metric some servers cannot give (e.g. broker CPU with the profiler off) is null throughout.
  if (values.some((value) => value === null || value === undefined)) return { median: null };
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    n: values.length,
  };
}

/** A row's median of `key` over another row's (`to`), when both have one. */
function ratio(row, to, key) {
  return to && row.metrics[key].median !== null && to.metrics[key].median
    ? row.metrics[key].median / to.metrics[key].median
    : undefined;
}

/** Rows of one scenario: one per server, or per server and fan-out mode. */
function rowsOf(report, scenario) {
  const rows = [];
  for (const server of scenario.servers) {
    const runs = report.samples[scenario.id]?.[server] ?? [];
    if (runs.length === 0) continue;
    const modes = scenario.kind === 'fanOut' ? Object.keys(runs[0]) : [undefined];
    for (const mode of modes) {
      const results = mode ? runs.map((run) => run[mode]) : runs;
      const metrics = {};
      for (const { key } of METRICS[scenario.kind])
        metrics[key] = stats(results.map((r) => r[key]));
      rows.push({ server, mode, label: report.servers[server], metrics });
    }
  }
  const baseline = rows.find((row) => row.server === (scenario.baseline ?? BASELINE));
  for (const row of rows) {
    // The handshake tables: this library's rows also against the same-platform peer's.
    const peer = rows.find(({ server }) => server === scenario.peers?.[row.server]);
    for (const { key, ratio: wanted, versus } of METRICS[scenario.kind]) {
      if (wanted) row.metrics[key].ratio = ratio(row, baseline, key);
      if (wanted && scenario.peers) row.metrics[key].peer = ratio(row, peer, key);
      if (versus) {
        const other = rows.find(({ server }) => server === versus.server);
        row.metrics[key].versus = ratio(row, other, key);
      }
    }
    if (scenario.kind === 'fanOut' && row.mode !== 'loop') {
      const loop = rows.find((other) => other.server === row.server && other.mode === 'loop');
      if (loop)
        row.versusLoop =
          row.metrics.deliveredPerSecond.median / loop.metrics.deliveredPerSecond.median;
    }
  }
  return rows;
}

/**
 * Scale-out goals (issues 15 and 16): each library row against the scenario's socket.io baseline;
 * publications/s only at the highest offered rate (below it every server may simply keep up). In
 * the four-instance tables, CPU per instance and the broker's CPU per instance against the
 * one-channel RedisBroker's. The profiler-off row is there for the overhead only.
 */
function checkScaleTargets(summary, scenarios, add, profilerOff) {
  for (const scenario of scenarios.filter(({ kind }) => kind === 'scale')) {
    const rows = summary[scenario.id] ?? [];
    const external = scenario.topology.external ? ', external publisher' : '';
    const where = `${scenario.topology.instances} instances${external}, ${scenario.topology.rate}/s`;
    const versus = scenario.baselineTitle;
    const singleChannel = rows.find((row) => row.server === ONE_CHANNEL.server);
    const library = ({ server }) => server.startsWith('library') && server !== profilerOff?.server;
    for (const row of rows.filter(library)) {
      const { metrics } = row;
      const name = `${where}, ${row.label}`;
      if (scenario.topology.highest && scenario.baseline.startsWith('socketio')) {
        add(
          `${name}: publications/s >= 1.00x ${versus}`,
          metrics.publicationsPerSecond.ratio,
          (v) => v >= 1,
        );
      }
      if (scenario.topology.followedOn === 'everywhere') {
        add(`${name}: p50 <= 1.00x ${versus}`, metrics.p50Ms.ratio, (v) => v <= 1);
        add(`${name}: p99 <= 1.00x ${versus}`, metrics.p99Ms.ratio, (v) => v <= 1);
      } else if (row !== singleChannel && singleChannel) {
        add(
          `${name}: CPU per instance <= 1/3 of the one-channel RedisBroker`,
          metrics.instanceCpuShare.median / singleChannel.metrics.instanceCpuShare.median,
          (v) => v <= 1 / 3,
        );
        add(
          `${name}: broker CPU per instance <= 1/3 of the one-channel RedisBroker`,
          metrics.brokerCpuShare.versus,
          (v) => v <= 1 / 3,
        );
      }
    }
  }
}

/** `32 B`, `16 KiB`, `256 KiB`. */
export function formatBytes(bytes) {
  return bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

const PEER_LABELS = { express: 'express-ws', fastify: '@fastify/websocket' };

function checkTargets(summary, scenarios, profilerOff) {
  const targets = [];
  const ratioOf = (scenario, server, key) =>
    summary[scenario]?.find((row) => row.server === server)?.metrics[key]?.ratio;
  const peerOf = (scenario, server) =>
    summary[scenario]?.find((row) => row.server === server)?.metrics.handshakesPerSecond.peer;
  const add = (what, value, pass) => {
    if (value !== undefined) targets.push({ what, value, met: pass(value) });
  };
  for (const platform of ['express', 'fastify']) {
    const server = `library-${platform}`;
    const name = platform === 'express' ? 'Express' : 'Fastify';
    for (const echo of scenarios.filter(({ kind }) => kind === 'echo')) {
      const what = `${formatBytes(echo.size)} ${echo.binary ? 'binary' : 'text'}`;
      add(
        `${name}: echo msgs/s at ${what} >= 0.95x raw ws`,
        ratioOf(echo.id, server, 'messagesPerSecond'),
        (v) => v >= 0.95,
      );
      add(
        `${name}: server CPU/msg at ${what} <= 1.05x raw ws`,
        ratioOf(echo.id, server, 'serverCpuUsPerMessage'),
        (v) => v <= 1.05,
      );
    }
    // The bar is the peer that runs the same platform pipeline per upgrade (express-ws,
    // @fastify/websocket), not raw ws, which runs none of it.
    add(
      `${name}: handshakes/s >= 1.00x ${PEER_LABELS[platform]} (no middleware, no guard)`,
      peerOf('handshake', server),
      (v) => v >= 1,
    );
    add(
      `${name}: handshakes/s on a warm server >= 1.00x ${PEER_LABELS[platform]} (no middleware, no guard)`,
      peerOf('handshakeWarm', server),
      (v) => v >= 1,
    );
    add(
      `${name}: handshakes/s with one async guard >= 1.00x ${PEER_LABELS[platform]} with its own async check`,
      peerOf('handshakeGuard', `${server}-guard`),
      (v) => v >= 1,
    );
    add(
      `${name}: memory per idle connection <= 1.2x raw ws`,
      ratioOf('memory', server, 'rssBytesPerConnection'),
      (v) => v <= 1.2,
    );
    add(
      `${name}: registry.broadcast >= 2x a plain send loop`,
      summary.fanOut?.find((row) => row.server === server && row.mode === 'broadcast')?.versusLoop,
      (v) => v >= 2,
    );
  }
  checkScaleTargets(summary, scenarios, add, profilerOff);
  for (const scenario of scenarios.filter(({ kind }) => kind === 'brokerOnly')) {
    const row = summary[scenario.id]?.find(({ server }) => server === 'broker-interest');
    add(
      `${scenario.title}: interest routing's broker CPU per instance <= 1/3 of one channel's`,
      row?.metrics.brokerCpuUsPerPublication.ratio,
      (v) => v <= 1 / 3,
    );
  }
  return targets;
}

/**
 * What the profiler costs an instance, per scenario that has the profiler-off row: the profiled
 * row's medians over the same server's with the profiler off (CPU per publication, delivered/s).
 */
function profilerOverhead(summary, scenarios, profilerOff) {
  const overhead = {};
  for (const scenario of scenarios) {
    const rows = summary[scenario.id] ?? [];
    const on = rows.find(({ server }) => server === profilerOff?.profiled);
    const off = rows.find(({ server }) => server === profilerOff?.server);
    if (!on || !off) continue;
    const of = (key) => on.metrics[key].median / off.metrics[key].median;
    overhead[scenario.id] = {
      cpuPerPublication: of('instanceCpuUsPerPublication'),
      publicationsPerSecond: of('publicationsPerSecond'),
    };
  }
  return overhead;
}

/**
 * What one step adds to a handshake, per server: the server with the step (the `-middleware` row
 * of the trivial-middleware table, the `-guard` row of the async-guard table) against the same
 * server without it (the plain handshake table). The tables run one after the other, so each is
 * taken relative to its own raw ws row first (which every storm table has): CPU µs added is
 * (with / its raw ws - without / its raw ws) x raw ws's CPU in the plain table, and the rate ratio
 * likewise of the ratios to raw ws; a slow spell of the machine between tables cancels out.
 */
const STEP_SERVERS = [
  'library-express',
  'express-ws',
  'library-fastify',
  'fastify-websocket',
  'raw-ws',
];
const STEPS = [
  { id: 'middleware', scenario: 'handshakeMiddleware' },
  { id: 'guard', scenario: 'handshakeGuard' },
];
const cpu = (row) => row.metrics.serverCpuUsPerHandshake;
const rate = (row) => row.metrics.handshakesPerSecond;
function stepCosts(summary) {
  const plain = summary.handshake ?? [];
  const rows = [];
  for (const server of STEP_SERVERS) {
    const base = plain.find((row) => row.server === server);
    if (!base) continue;
    const steps = {};
    for (const step of STEPS) {
      const row = summary[step.scenario]?.find((r) => r.server === `${server}-${step.id}`);
      if (!row) continue;
      if (!cpu(row).ratio || !cpu(base).ratio || !rate(row).ratio || !rate(base).ratio) continue;
      const rawCpu = cpu(base).median / cpu(base).ratio;
      steps[step.id] = {
        cpuUsAdded: (cpu(row).ratio - cpu(base).ratio) * rawCpu,
        rateRatio: rate(row).ratio / rate(base).ratio,
      };
    }
    if (Object.keys(steps).length) {
      rows.push({
        server,
        label: base.label,
        cpuUs: base.metrics.serverCpuUsPerHandshake.median,
        steps,
      });
    }
  }
  return rows;
}

/** Medians, min-max, ratios to raw ws per scenario, and the targets. */
export function summarize(report) {
  const summary = {};
  for (const scenario of report.scenarios) summary[scenario.id] = rowsOf(report, scenario);
  summary.targets = checkTargets(summary, report.scenarios, report.profilerOff);
  summary.profilerOverhead = profilerOverhead(summary, report.scenarios, report.profilerOff);
  summary.stepCosts = stepCosts(summary);
  return summary;
}

function format(value, { digits = 0, scale = 1, percent = false } = {}) {
  if (value === undefined || value === null || Number.isNaN(value)) return '–';
  if (percent) return `${Math.round(value * 100)} %`;
  return (value * scale).toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

const MODE_LABELS = { broadcast: 'registry.broadcast(data)', loop: 'for-of send loop' };

export function renderMarkdown(report) {
  const { machine, summary, config } = report;
  const lines = [
    `Measured ${machine.date.slice(0, 10)} on ${machine.nproc} × ${machine.cpu}, Node ${machine.node}, ws ${machine.ws}; ` +
      `${machine.pinned}; ${report.mode} mode, ${config.rounds} interleaved round(s), medians with min–max; ` +
      `load average at the end ${machine.loadAverage}.`,
    '',
  ];
  for (const scenario of report.scenarios) {
    const rows = summary[scenario.id];
    if (!rows?.length) continue;
    const metrics = METRICS[scenario.kind];
    const header = ['server'];
    const hasPeers = Object.keys(scenario.peers ?? {}).length > 0;
    // A ratio to the one-channel row, unless that row is the table's baseline already.
    const versusOf = (metric) =>
      metric.versus && metric.versus.server !== scenario.baseline ? metric.versus : undefined;
    for (const metric of metrics) {
      header.push(metric.title);
      if (metric.ratio && metric.range !== false) header.push('min–max');
      if (metric.ratio) header.push(`× ${scenario.baselineTitle ?? 'raw ws'}`);
      if (metric.ratio && hasPeers) header.push('× same-platform peer');
      if (versusOf(metric)) header.push(`× ${metric.versus.title}`);
    }
    if (scenario.kind === 'fanOut') header.push('× its plain loop');
    lines.push(
      `### ${scenario.title}`,
      '',
      `| ${header.join(' | ')} |`,
      `|${header.map((_, i) => (i ? ' ---: ' : ' --- ')).join('|')}|`,
    );
    for (const row of rows) {
      const cells = [row.mode ? `${row.label}: ${MODE_LABELS[row.mode] ?? row.mode}` : row.label];
      for (const metric of metrics) {
        const value = row.metrics[metric.key];
        cells.push(format(value.median, metric));
        if (metric.ratio && metric.range !== false) {
          cells.push(`${format(value.min, metric)}–${format(value.max, metric)}`);
        }
        if (metric.ratio) cells.push(format(value.ratio, { digits: 2 }));
        if (metric.ratio && hasPeers) cells.push(format(value.peer, { digits: 2 }));
        if (versusOf(metric)) cells.push(format(value.versus, { digits: 2 }));
      }
      if (scenario.kind === 'fanOut') cells.push(format(row.versusLoop, { digits: 2 }));
      lines.push(`| ${cells.join(' | ')} |`);
    }
    lines.push('');
    const overhead = summary.profilerOverhead?.[scenario.id];
    if (overhead) {
      lines.push(
        `Profiler overhead (${report.servers[report.profilerOff.profiled]}, profiler on / off): ` +
          `CPU µs per instance per publication ${format(overhead.cpuPerPublication, { digits: 2 })}x, ` +
          `publications/s delivered ${format(overhead.publicationsPerSecond, { digits: 2 })}x.`,
        '',
      );
    }
  }
  if (summary.stepCosts?.length) {
    const cell = (step, pick, options) => (step ? format(pick(step), options) : '–');
    lines.push(
      '### What one step adds to a handshake',
      '',
      'Server CPU µs per handshake with the step minus without it, and handshakes/s with it ' +
        'over without, from the tables above (same run), each first taken relative to the raw ws ' +
        'row of its own table so that a slow spell between tables cancels out. Middleware: `app.use((req, res, next) => next())` ' +
        '(Express) or one `onRequest` hook (Fastify); async guard: `@UseGuards()` with an async ' +
        '`canActivate()`, an async route middleware (express-ws), an async `preValidation` hook ' +
        '(@fastify/websocket), an `await` before `handleUpgrade` (raw ws).',
      '',
      '| server | CPU µs/handshake, no step | + 1 trivial middleware µs | × handshakes/s | + 1 async guard µs | × handshakes/s |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const row of summary.stepCosts) {
      const { middleware, guard } = row.steps;
      lines.push(
        `| ${row.label} | ${format(row.cpuUs, { digits: 1 })} | ` +
          `${cell(middleware, (s) => s.cpuUsAdded, { digits: 1 })} | ` +
          `${cell(middleware, (s) => s.rateRatio, { digits: 2 })} | ` +
          `${cell(guard, (s) => s.cpuUsAdded, { digits: 1 })} | ` +
          `${cell(guard, (s) => s.rateRatio, { digits: 2 })} |`,
      );
    }
    lines.push('');
  }
  if (summary.targets.length) {
    lines.push(
      '### Targets (ratio of medians in the same run)',
      '',
      '| target | measured | met |',
      '| --- | ---: | --- |',
    );
    for (const target of summary.targets) {
      lines.push(
        `| ${target.what} | ${format(target.value, { digits: 2 })} | ${target.met ? 'yes' : '**no**'} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}
