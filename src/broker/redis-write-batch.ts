import type { Redis } from 'ioredis';

/**
 * Coalesces what one standalone client writes during a tick into one socket write: the first
 * command of a tick corks the client's socket (`net.Socket.cork()`), a `process.nextTick` uncorks
 * it, and Node hands the queued commands to the kernel in one `writev` system call instead of one
 * `write` each. The commands, their order and their replies are ioredis's as before. ioredis writes
 * each command to its socket at once (`Redis.stream`, public in its typings); its own
 * `enableAutoPipelining` would batch too, but through a pipeline object, more promises per command
 * and a wait for each batch's replies before the next. A Redis Cluster client has no single
 * socket: nothing is batched there.
 */
export class TickWriteBatch {
  private corked = false;

  constructor(private readonly client: Redis) {}

  /** Called before each command: holds the socket's writes until the end of this tick. */
  hold(): void {
    if (this.corked) return;
    const stream = (this.client as { stream?: Partial<Redis['stream']> }).stream;
    if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return;
    stream.cork();
    this.corked = true;
    process.nextTick(() => {
      this.corked = false;
      stream.uncork?.();
    });
  }
}
