import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closed } from '../support/app.js';
import type { ServerMessage } from '../../sample/chat/chat.protocol.js';
import { startInstance, type RunningProcess } from '../support/process.js';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import { joinChat, type ChatClient } from './chat-client.js';

const skip = skipWithoutRedisServer;
/** The instances' presence heartbeat: short, so that a dead instance's members go in seconds. */
const HEARTBEAT_MS = 1000;

type MembersMessage = Extract<ServerMessage, { type: 'members' }>;

/** The names in a newcomer's `members` message, sorted. */
async function memberNames(client: ChatClient): Promise<string[]> {
  const welcome = await client.next();
  expect(welcome.type).toBe('members');
  return (welcome as MembersMessage).members.map((member) => member.name).toSorted();
}

describe.skipIf(skip)(
  `reference sample, two instances with REDIS_URL: shared rooms${skip ? redisMissing : ''}`,
  () => {
    let redis: RedisProcess;
    const instances: RunningProcess[] = [];
    const ports: number[] = [];
    const clients: ChatClient[] = [];
    const join = async (instance: number, room: string, name: string) => {
      const client = await joinChat(ports[instance], room, name);
      clients.push(client);
      return client;
    };

    /** One more instance of the sample on the test's Redis. */
    const startSample = async () => {
      const env = { REDIS_URL: redis.url, PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS) };
      const started = await startInstance('dist/sample/main.js', env);
      instances.push(started);
      ports.push(started.port);
      return started;
    };

    beforeAll(async () => {
      redis = await RedisProcess.start();
      for (let i = 0; i < 2; i++) await startSample();
    });

    afterAll(async () => {
      for (const client of clients) client.socket.terminate();
      for (const instance of instances) instance.child.kill('SIGTERM');
      await Promise.all(instances.map((instance) => instance.exited));
      await redis?.kill();
    });

    it('shares messages, join and leave notices and the member list across instances', async () => {
      const ada = await join(0, 'shared', 'Ada');
      expect(await memberNames(ada)).toEqual(['Ada']);

      const grace = await join(1, 'shared', 'Grace');
      expect(await memberNames(grace)).toEqual(['Ada', 'Grace']);
      expect(await ada.next()).toMatchObject({ type: 'joined', member: { name: 'Grace' } });

      grace.say('hello from the other instance');
      const fromGrace = {
        type: 'said',
        from: { name: 'Grace' },
        text: 'hello from the other instance',
      };
      expect(await ada.next()).toMatchObject(fromGrace);
      expect(await grace.next()).toMatchObject(fromGrace);
      ada.say('hello back');
      expect(await grace.next()).toMatchObject({ type: 'said', from: { name: 'Ada' } });
      expect(await ada.next()).toMatchObject({ type: 'said', text: 'hello back' });

      // Another room is another member list and another topic, on every instance.
      const bob = await join(1, 'elsewhere', 'Bob');
      expect(await memberNames(bob)).toEqual(['Bob']);
      bob.say('not for the shared room');
      expect(await bob.next()).toMatchObject({ type: 'said', text: 'not for the shared room' });

      grace.socket.close();
      expect(await ada.next()).toMatchObject({ type: 'left', member: { name: 'Grace' } });
      const carol = await join(1, 'shared', 'Carol');
      expect(await memberNames(carol)).toEqual(['Ada', 'Carol']);
      expect(await ada.next()).toMatchObject({ type: 'joined', member: { name: 'Carol' } });
      // Nothing from room "elsewhere" reached Ada in between: the next message is Carol's.
      carol.say('third');
      expect(await ada.next()).toMatchObject({ type: 'said', text: 'third' });
    });

    it('removes the members of an instance that shuts down, and announces they left', async () => {
      const ada = await join(0, 'shutdown', 'Ada');
      await ada.next();
      const dave = await join(1, 'shutdown', 'Dave');
      expect(await memberNames(dave)).toEqual(['Ada', 'Dave']);
      expect(await ada.next()).toMatchObject({ type: 'joined', member: { name: 'Dave' } });

      instances[1].child.kill('SIGTERM');
      expect(await instances[1].exited).toBe('SIGTERM');
      expect(await ada.next()).toMatchObject({ type: 'left', member: { name: 'Dave' } });
      const eve = await join(0, 'shutdown', 'Eve');
      expect(await memberNames(eve)).toEqual(['Ada', 'Eve']);
    });

    it('announces the members of an instance killed with SIGKILL as left, within 2 heartbeats', async () => {
      const doomed = await startSample();
      const ada = await join(0, 'sigkill', 'Ada');
      await ada.next();
      const zed = await join(ports.length - 1, 'sigkill', 'Zed');
      expect(await memberNames(zed)).toEqual(['Ada', 'Zed']);
      expect(await ada.next()).toMatchObject({ type: 'joined', member: { name: 'Zed' } });

      doomed.child.kill('SIGKILL');
      const killedAt = Date.now();
      expect(await doomed.exited).toBe('SIGKILL');
      expect(await ada.next()).toMatchObject({ type: 'left', member: { name: 'Zed' } });
      expect(Date.now() - killedAt).toBeLessThanOrEqual(2 * HEARTBEAT_MS);
      const eve = await join(0, 'sigkill', 'Eve');
      expect(await memberNames(eve)).toEqual(['Ada', 'Eve']);
    });

    it('closes a join with 1013 "try again later" while Redis is away, and goes on', async () => {
      await redis.kill();
      const client = await join(0, 'outage', 'Ada');
      expect(await closed(client.socket)).toEqual({
        code: 1013,
        reason: 'chat rooms unavailable, try again later',
      });
      await redis.restart();
      // As the page does: try again until the sample has reconnected; the failed join left no trace.
      let first: ServerMessage | { code: number; reason: string } = { code: 0, reason: '' };
      for (let attempt = 0; attempt < 20 && !('type' in first); attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250));
        const again = await join(0, 'outage', 'Ada');
        const welcome = again.next();
        welcome.catch(() => {}); // never comes if the join is refused
        first = await Promise.race([welcome, closed(again.socket)]);
      }
      expect(first).toMatchObject({ type: 'members', members: [{ name: 'Ada' }] });
      expect((first as MembersMessage).members).toHaveLength(1);
    });
  },
);
