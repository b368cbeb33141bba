// Handshake storms of servers from several checkouts in one interleaved run: to compare a change
// with the code before it (and with the peers) on a shared machine, where only figures taken
// side by side mean anything. Each server runs on CPU 0 and the load generator on CPU 1 (taskset),
// warms up with 500 handshakes, then the server's CPU time over TOTAL handshakes is read.
// Usage: node test/bench/handshake-ab.mjs ROUNDS TOTAL LABEL=DIR:SCRIPT[:ARG] ...
//   e.g. before=/tmp/before:library.mjs:express after=.:library.mjs:express express-ws=.:express-ws.mjs
//   (DIR: a checkout with its dist/ built; SCRIPT: a file of its test/bench/servers/)
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChildProcessPeer } from './ipc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const [rounds, total, ...specs] = process.argv.slice(2);
const servers = specs.map((spec) => {
  const [label, rest] = spec.split('=');
  const [dir, script, ...args] = rest.split(':');
  return { label, script: join(resolve(dir), 'test/bench/servers', script), args };
});
const cpuMicros = (usage) => usage.user + usage.system;
const median = (values) => {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const results = Object.fromEntries(servers.map(({ label }) => [label, []]));
for (let round = 0; round < Number(rounds); round++) {
  // the order rotates each round, as in the bench
  for (const server of servers.map((_, i) => servers[(i + round) % servers.length])) {
    const peer = new ChildProcessPeer(server.script, server.args, {
      prefix: ['taskset', '-c', '0'],
      nodeArgs: ['--expose-gc'],
      label: server.label,
    });
    const load = new ChildProcessPeer(join(here, 'load.mjs'), [], {
      prefix: ['taskset', '-c', '1'],
      label: 'load',
    });
    try {
      const [{ port }] = await Promise.all([peer.ready(), load.ready()]);
      const target = { port, path: '/echo', parallel: 50 };
      await load.request('storm', { ...target, total: 500 });
      const before = await peer.request('cpu');
      const storm = await load.request('storm', { ...target, total: Number(total) });
      const after = await peer.request('cpu');
      if (storm.failed > 0) throw new Error(`${server.label}: ${storm.failed} handshakes failed`);
      const perHandshake = (cpuMicros(after) - cpuMicros(before)) / Number(total);
      results[server.label].push(perHandshake);
      console.log(
        `round ${round + 1} ${server.label}: ${perHandshake.toFixed(1)} µs CPU/handshake, ${storm.perSecond.toFixed(0)}/s`,
      );
    } finally {
      await Promise.all([load.stop(), peer.stop()]);
    }
  }
}
console.log('\n| server | CPU µs/handshake, median | min | max |\n| --- | ---: | ---: | ---: |');
for (const [label, values] of Object.entries(results)) {
  const [min, max] = [Math.min(...values), Math.max(...values)];
  console.log(
    `| ${label} | ${median(values).toFixed(1)} | ${min.toFixed(1)} | ${max.toFixed(1)} |`,
  );
}
