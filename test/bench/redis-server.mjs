// A redis-server of a benchmark's own: free port on 127.0.0.1, no persistence. The bench is plain
// .mjs over the built library, so it cannot import test/support/redis.ts.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
const REDIS_CLI = process.env.REDIS_CLI ?? '/usr/bin/redis-cli';

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server (behind `prefix`, e.g. `['taskset', '-c', '1']`, with more arguments `args`)
 * and resolves once it is ready: `{ url, port, cpuMicros(), stop() }`; `cpuMicros` is its own CPU
 * from `INFO cpu`.
 */
export async function startRedis(prefix = [], args = []) {
  const port = await freePort();
  const options = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    ...args,
  ];
  const [file, ...argv] = [...prefix, REDIS_SERVER, ...options];
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let output = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) resolve();
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    cpuMicros: () => {
      const info = execFileSync(REDIS_CLI, ['-p', String(port), 'info', 'cpu'], {
        encoding: 'utf8',
      });
      const seconds = (key) => Number(info.match(new RegExp(`${key}:([\\d.]+)`))[1]);
      return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * A Redis Cluster of `masters` redis-servers (no replicas), as the tests start one:
 * `{ nodes: [{ host, port }], stop() }`.
 */
export async function startRedisCluster(masters = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  const servers = [];
  for (let i = 0; i < masters; i++) {
    const config = join(dir, `nodes-${i}.conf`);
    servers.push(
      await startRedis([], ['--cluster-enabled', 'yes', '--cluster-config-file', config]),
    );
  }
  const addresses = servers.map(({ port }) => `127.0.0.1:${port}`);
  execFileSync(REDIS_CLI, [
    '--cluster',
    'create',
    ...addresses,
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ]);
  for (;;) {
    const states = servers.map(({ port }) =>
      execFileSync(REDIS_CLI, ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }),
    );
    if (states.every((info) => info.includes('cluster_state:ok'))) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    nodes: servers.map(({ port }) => ({ host: '127.0.0.1', port })),
    stop: async () => {
      await Promise.all(servers.map((server) => server.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
