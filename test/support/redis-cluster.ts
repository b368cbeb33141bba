import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RedisProcess } from './redis.js';

const run = promisify(execFile);
export const REDIS_CLI = '/usr/bin/redis-cli';

/**
 * A real Redis Cluster of the test's own: `masters` x `redis-server --cluster-enabled yes` on free
 * ports of 127.0.0.1, joined by `redis-cli --cluster create` (no replicas), each node in a folder
 * of its own so it keeps its `nodes.conf` and can be restarted into the same shard.
 */
export class RedisCluster {
  private constructor(
    readonly nodes: RedisProcess[],
    private readonly dir: string,
  ) {}

  /** `persist`: each node keeps its data (append-only file) across `restartNode`. */
  static async start(masters = 3, { persist = false } = {}): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'nestjs-ws-routes-cluster-'));
    const nodes: RedisProcess[] = [];
    for (let i = 0; i < masters; i++) {
      const cwd = mkdtempSync(join(dir, `node-${i}-`));
      nodes.push(
        await RedisProcess.start({
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
          cwd,
          persistDir: persist ? cwd : undefined,
        }),
      );
    }
    const cluster = new RedisCluster(nodes, dir);
    await run(REDIS_CLI, [
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await cluster.waitUntilOk();
    return cluster;
  }

  /** `host:port` of every node, for `new Cluster(...)` or an env variable. */
  get addresses(): { host: string; port: number }[] {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  /** Resolves once every node reports `cluster_state:ok` (slots covered, nodes agree). */
  async waitUntilOk(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        this.nodes.map((node) =>
          run(REDIS_CLI, ['-p', String(node.port), 'cluster', 'info']).then(
            ({ stdout }) => stdout.includes('cluster_state:ok'),
            () => false,
          ),
        ),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error('Redis Cluster did not reach cluster_state:ok');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The first name `<prefix>:<i>` whose slot (as a key or a hash tag) node `index` owns. */
  async topicOn(index: number, prefix = 'quiet'): Promise<string> {
    const node = this.nodes[index]!;
    const myself = (await node.cli('cluster', 'nodes'))
      .split('\n')
      .find((line) => line.includes('myself'))!;
    const [first, last] = myself.trim().split(' ').at(-1)!.split('-').map(Number);
    for (let i = 0; ; i++) {
      const slot = Number(await node.cli('cluster', 'keyslot', `${prefix}:${i}`));
      if (slot >= first! && slot <= last!) return `${prefix}:${i}`;
    }
  }

  /** Kills one node (SIGKILL) and starts it again on its port, in its shard: no failover. */
  async restartNode(index: number): Promise<void> {
    const node = this.nodes[index]!;
    await node.kill();
    await node.restart();
    await this.waitUntilOk();
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
