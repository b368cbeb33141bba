// A redis-server of a benchmark's own: free port on 127.0.0.1, no persistence. The bench is plain
// .mjs over the built library, so it cannot import test/support/redis.ts.
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';

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
 * Starts redis-server (behind `prefix`, e.g. `['taskset', '-c', '1']`) and resolves once it is
 * ready: `{ url, port, cpuMicros(), stop() }`; `cpuMicros` is its own CPU from `INFO cpu`.
 */
export async function startRedis(prefix = []) {
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
