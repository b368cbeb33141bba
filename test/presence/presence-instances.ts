import type { PresenceMember } from '../../src/index.js';
import { connectWebSocket, type WebSocketTestClient } from '../../src/testing/index.js';
import { startInstance, type RunningProcess } from '../support/process.js';

/**
 * The presence example app (sample/examples/presence) run as real instance processes, and what the
 * multi-instance presence tests ask of them: who each lists, what each client heard.
 */

/** Starts `count` instances of the presence example with `env` (REDIS_URL or REDIS_CLUSTER, heartbeat). */
export async function startPresenceInstances(
  count: number,
  env: Record<string, string>,
): Promise<(RunningProcess & { port: number })[]> {
  const instances = [];
  for (let i = 0; i < count; i++) {
    instances.push(await startInstance('dist/sample/examples/presence/main.js', env));
  }
  return instances;
}

/** Sends SIGTERM to every instance and waits until each has exited. */
export async function stopPresenceInstances(instances: RunningProcess[]): Promise<void> {
  for (const instance of instances) instance.child.kill('SIGTERM');
  await Promise.all(instances.map((instance) => instance.exited));
}

/** A client of `/online` on the instance at `port`, once it got the member list. */
export async function online(port: number, name: string, topic = 'lobby') {
  const client = await connectWebSocket(
    `ws://127.0.0.1:${port}/online?name=${name}&topic=${encodeURIComponent(topic)}`,
  );
  await client.expectMessage(/"type":"members"/);
  return client;
}

/** The response of `GET /members` of an instance: names sorted, or the error it answered. */
export async function members(
  port: number,
  topic = 'lobby',
): Promise<{ names?: string[]; status: number; message?: string }> {
  const response = await fetch(
    `http://127.0.0.1:${port}/members?topic=${encodeURIComponent(topic)}`,
  );
  const body = await response.json();
  if (!response.ok) return { status: response.status, message: body.message };
  const names = (body as PresenceMember[]).map((member) => String(member.info.name)).toSorted();
  return { status: response.status, names };
}

/** Names listed by `GET /members` of an instance, sorted; undefined while it answers an error. */
export async function listed(port: number, topic = 'lobby'): Promise<string[] | undefined> {
  return (await members(port, topic)).names;
}

/** Polls until every instance of `ports` lists exactly `names`; resolves with the time it took. */
export async function converged(
  ports: number[],
  names: string[],
  timeoutMs = 10_000,
  topic = 'lobby',
): Promise<number> {
  const started = Date.now();
  const want = names.toSorted();
  for (;;) {
    const lists = await Promise.all(ports.map((port) => listed(port, topic)));
    if (lists.every((list) => JSON.stringify(list) === JSON.stringify(want))) {
      return Date.now() - started;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `${topic}: not converged to ${want} within ${timeoutMs} ms: ${JSON.stringify(lists)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The `presence` events a client got, as [joined names, left names]. */
export function changes(client: WebSocketTestClient): [string[], string[]][] {
  return client.messages
    .map((data) => JSON.parse(String(data)))
    .filter((message) => message.type === 'presence')
    .map((event: { joins: PresenceMember[]; leaves: PresenceMember[] }) => [
      event.joins.map((member) => String(member.info.name)),
      event.leaves.map((member) => String(member.info.name)),
    ]);
}

export const leftNames = (client: WebSocketTestClient) =>
  changes(client).flatMap(([, left]) => left);
export const joinedNames = (client: WebSocketTestClient) =>
  changes(client).flatMap(([joined]) => joined);
