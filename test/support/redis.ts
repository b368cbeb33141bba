import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

export const REDIS_SERVER = '/usr/bin/redis-server';
export const REDIS_INSTALL_HINT = 'apt-get install redis-server';
/** Whether this machine can start a redis-server of its own. */
export const haveRedisServer = existsSync(REDIS_SERVER);
/** Locally a missing redis-server skips the tests that need one; under CI they run, and fail. */
export const skipWithoutRedisServer = !process.env.CI && !haveRedisServer;
/** Appended to the name of a skipped test: what is missing, and how to install it. */
export const redisMissing = ` [skipped: no ${REDIS_SERVER}; ${REDIS_INSTALL_HINT}]`;

/** A redis-server of the test's own, on a free port, that it can kill and start again. */
export class RedisProcess {
  private child: ChildProcess | undefined;
  /** `args`: more redis-server arguments, e.g. `['--cluster-enabled', 'yes']`. */
  constructor(
    readonly port: number,
    private readonly args: readonly string[] = [],
    private readonly cwd?: string,
  ) {}

  static async start(args: readonly string[] = [], cwd?: string): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort(), args, cwd);
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  restart(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      ...this.args,
    ];
    const child = spawn(REDIS_SERVER, args, { cwd: this.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    return new Promise((resolve, reject) => {
      let output = '';
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(new Error(`redis-server exited with ${code}: ${output}`)),
      );
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
    });
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
