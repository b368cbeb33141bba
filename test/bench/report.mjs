// Turns the samples of run.mjs into medians, spreads, ratios to raw ws and target checks, and
// renders them as Markdown.

const BASELINE = 'raw-ws';

/** What each scenario kind reports: metric key, column title, digits, and whether more is better. */
const METRICS = {
  echo: [
    { key: 'messagesPerSecond', title: 'msgs/s', ratio: true },
    { key: 'p50Us', title: 'p50 µs' },
    { key: 'p99Us', title: 'p99 µs' },
    { key: 'serverCpuUsPerMessage', title: 'server CPU µs/msg', ratio: true, digits: 2 },
    { key: 'loadCpuShare', title: 'load gen. CPU', percent: true },
  ],
  storm: [{ key: 'handshakesPerSecond', title: 'handshakes/s', ratio: true }],
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
};

/** The median of `values`. */
export function median(values) {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function stats(values) {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    n: values.length,
  };
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
  const baseline = rows.find((row) => row.server === BASELINE);
  for (const row of rows) {
    for (const { key, ratio } of METRICS[scenario.kind]) {
      if (ratio && baseline)
        row.metrics[key].ratio = row.metrics[key].median / baseline.metrics[key].median;
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

function checkTargets(summary) {
  const targets = [];
  const ratioOf = (scenario, server, key) =>
    summary[scenario]?.find((row) => row.server === server)?.metrics[key]?.ratio;
  const add = (what, value, pass) => {
    if (value !== undefined) targets.push({ what, value, met: pass(value) });
  };
  for (const platform of ['express', 'fastify']) {
    const server = `library-${platform}`;
    const name = platform === 'express' ? 'Express' : 'Fastify';
    add(
      `${name}: echo msgs/s at 32 B >= 0.95x raw ws`,
      ratioOf('echo32', server, 'messagesPerSecond'),
      (v) => v >= 0.95,
    );
    add(
      `${name}: echo msgs/s at 16 KiB >= 0.95x raw ws`,
      ratioOf('echo16k', server, 'messagesPerSecond'),
      (v) => v >= 0.95,
    );
    add(
      `${name}: server CPU/msg at 32 B <= 1.05x raw ws`,
      ratioOf('echo32', server, 'serverCpuUsPerMessage'),
      (v) => v <= 1.05,
    );
    add(
      `${name}: server CPU/msg at 16 KiB <= 1.05x raw ws`,
      ratioOf('echo16k', server, 'serverCpuUsPerMessage'),
      (v) => v <= 1.05,
    );
    add(
      `${name}: handshakes/s >= 0.85x raw ws (no middleware, no guard; through the platform)`,
      ratioOf('handshake', server, 'handshakesPerSecond'),
      (v) => v >= 0.85,
    );
    add(
      `${name}: handshakes/s with one async guard >= 0.80x raw ws`,
      ratioOf('handshakeGuard', `${server}-guard`, 'handshakesPerSecond'),
      (v) => v >= 0.8,
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
  return targets;
}

/** Medians, min-max, ratios to raw ws per scenario, and the targets. */
export function summarize(report) {
  const summary = {};
  for (const scenario of report.scenarios) summary[scenario.id] = rowsOf(report, scenario);
  summary.targets = checkTargets(summary);
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
    for (const metric of metrics) {
      header.push(metric.title);
      if (metric.ratio) header.push('min–max', '× raw ws');
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
        if (metric.ratio) {
          cells.push(`${format(value.min, metric)}–${format(value.max, metric)}`);
          cells.push(format(value.ratio, { digits: 2 }));
        }
      }
      if (scenario.kind === 'fanOut') cells.push(format(row.versusLoop, { digits: 2 }));
      lines.push(`| ${cells.join(' | ')} |`);
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
