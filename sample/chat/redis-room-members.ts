import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import { once } from 'node:events';
import { WebSocketCloseException } from '../../src/index.js';
import type { Member } from './chat.protocol.js';
import { RoomMembers } from './room-members.js';

/**
 * The member lists shared by every instance on the same Redis: one hash per room
 * (`sample-chat:members:<room>`, member id -> member as JSON), through a client of its own.
 * A member is removed when its connection closes, on whichever instance that is; what this
 * instance still lists when it shuts down is removed then.
 */
export class RedisRoomMembers extends RoomMembers implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RedisRoomMembers');
  private readonly redis: Redis;
  /** This instance's members (id -> room): what shutdown removes. */
  private readonly own = new Map<string, string>();
  private reachable = true;

  constructor(url: string) {
    super();
    // A join while Redis is away fails at once (no offline queue, which would replay it later
    // and list a member who is gone), and one that gets no answer within 2 s fails too.
    this.redis = new Redis(url, { enableOfflineQueue: false, commandTimeout: 2000 });
    this.redis.on('error', (error: Error) => {
      if (this.reachable) this.logger.warn(`Redis at ${url} unreachable: ${error.message}`);
      this.reachable = false;
    });
    this.redis.on('ready', () => (this.reachable = true));
  }

  /** Waits (at most 5 s) for Redis before the app listens, so that the first joins find it. */
  async onModuleInit(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await Promise.race([once(this.redis, 'ready'), new Promise((done) => setTimeout(done, 5000))]);
  }

  async add(room: string, member: Member): Promise<Member[]> {
    this.own.set(member.id, room);
    // One transaction: the list includes every member added before this one, and this one.
    const replies = await this.redis
      .multi()
      .hset(keyOf(room), member.id, JSON.stringify(member))
      .hvals(keyOf(room))
      .exec()
      .catch((error: Error) => {
        this.own.delete(member.id);
        this.redis.hdel(keyOf(room), member.id).catch(() => {}); // in case the HSET got through
        this.logger.warn(`${room}: could not join ${member.id}: ${error.message}`);
        // 1013 "try again later": the page reconnects by itself.
        throw new WebSocketCloseException(1013, 'chat rooms unavailable, try again later');
      });
    const [error, values] = replies![1] as [Error | null, string[]];
    if (error) throw error;
    return values.map((value) => JSON.parse(value) as Member);
  }

  async remove(room: string, member: Member): Promise<boolean> {
    if (!this.own.delete(member.id)) return false;
    await this.redis.hdel(keyOf(room), member.id).catch((error: Error) => {
      this.logger.warn(`${room}: ${member.id} left but stays listed: ${error.message}`);
    });
    return true;
  }

  async onApplicationShutdown(): Promise<void> {
    // WsModule closed the connections before this hook, and their onClose removed most members.
    const pipeline = this.redis.pipeline();
    for (const [id, room] of this.own) pipeline.hdel(keyOf(room), id);
    this.own.clear();
    try {
      await pipeline.exec();
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

function keyOf(room: string): string {
  return `sample-chat:members:${room}`;
}
