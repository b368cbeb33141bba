import { expect } from 'vitest';
import { WebSocket } from 'ws';
import { until } from '../support/app.js';
import { ResumingClient } from './history-client.js';
import { startInstance } from './history-instances.js';

/** The workload: 12 clients on 5 of the topics each, dropping for 1 to 5 s, for 6 s. */
export const WORKLOAD = { clients: 12, topicsPerClient: 5, durationMs: 6000 };

/** Publishes through an instance's `/publish` route; remembers what it sent per topic. */
export class Publisher {
  readonly sent = new Map<string, string[]>();
  private constructor(private readonly socket: WebSocket) {}

  static open(base: string): Promise<Publisher> {
    const socket = new WebSocket(`${base}/publish`);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new Publisher(socket)));
      socket.once('error', reject);
    });
  }

  publish(topic: string, data: string): void {
    let sent = this.sent.get(topic);
    if (sent === undefined) this.sent.set(topic, (sent = []));
    sent.push(data);
    this.socket.send(JSON.stringify([topic, data]));
  }

  /** `registry.broadcast(data, { path })` on the instance. */
  broadcast(data: string, path?: string): void {
    this.socket.send(JSON.stringify([null, data, path]));
  }

  close(): void {
    this.socket.terminate();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)];

/**
 * The workload: publishers on every instance publish to `topics`, while each client drops
 * for 1 to 5 s at random and comes back to a random instance, resuming from its last positions.
 * Resolves once everything published has been delivered.
 */
export async function dropAndResume(options: {
  bases: string[];
  topics: string[];
  clients: number;
  topicsPerClient: number;
  durationMs: number;
}): Promise<{ observer: ResumingClient; clients: ResumingClient[]; publishers: Publisher[] }> {
  const { bases, topics } = options;
  const observer = new ResumingClient(topics);
  await observer.connect(bases[0]);
  const clients = Array.from({ length: options.clients }, () => {
    const mine = new Set<string>();
    while (mine.size < options.topicsPerClient) mine.add(pick(topics));
    return new ResumingClient([...mine]);
  });
  await Promise.all(clients.map((client, i) => client.connect(bases[i % bases.length])));
  const publishers = await Promise.all(bases.map((base) => Publisher.open(base)));
  const end = Date.now() + options.durationMs;
  let counter = 0;
  const publishing = (async () => {
    while (Date.now() < end) {
      for (const [i, publisher] of publishers.entries())
        publisher.publish(pick(topics), `${i}:${counter++}`);
      await sleep(10);
    }
  })();
  const dropping = clients.map(async (client) => {
    await sleep(Math.random() * 1000);
    while (Date.now() < end - 1000) {
      client.drop();
      await sleep(1000 + Math.random() * 4000);
      await client.connect(pick(bases));
      await sleep(Math.random() * 1000);
    }
  });
  await Promise.all([publishing, ...dropping]);
  const total = (topic: string) =>
    publishers.reduce((n, p) => n + (p.sent.get(topic)?.length ?? 0), 0);
  await until(
    () => topics.every((topic) => observer.received.get(topic)!.length >= total(topic)),
    15_000,
    'every publication at the observer',
  );
  await until(
    () =>
      clients.every((client) =>
        client.topics.every((topic) => client.positions.get(topic)?.offset === total(topic)),
      ),
    15_000,
    'every client caught up',
  );
  return { observer, clients, publishers };
}

/**
 * Asserts the full sequences: the observer got each topic's publications exactly once with
 * offsets 1..n (and exactly the data published), and every client got, per topic, exactly the
 * observer's sequence after the position it first subscribed at, all recoveries complete.
 */
export function expectExactlyOnceInOrder(
  observer: ResumingClient,
  clients: ResumingClient[],
  publishers: Publisher[],
): void {
  for (const topic of observer.topics) {
    const seen = observer.received.get(topic)!;
    expect(seen.map((p) => p.offset)).toEqual(seen.map((_, i) => i + 1));
    const published = publishers.flatMap((p) => p.sent.get(topic) ?? []);
    expect(seen.map((p) => p.data).toSorted()).toEqual(published.toSorted());
    expect(new Set(seen.map((p) => p.epoch)).size).toBeLessThanOrEqual(1);
  }
  const replayed = clients
    .flatMap((client) => client.recoveries)
    .reduce((n, frame) => n + (frame.type === 'recovery' ? frame.replayed : 0), 0);
  expect(replayed, 'publications replayed by resumes').toBeGreaterThan(0);
  for (const client of clients) {
    expect(client.lost).toEqual([]);
    expect(
      client.recoveries.filter((frame) => frame.type === 'recovery' && !frame.recovered),
    ).toEqual([]);
    for (const topic of client.topics) {
      const got = client.received.get(topic)!;
      const first = client.recoveries.find((frame) => frame.topic === topic) as {
        position: { offset: number };
      };
      expect(got).toEqual(observer.received.get(topic)!.slice(first.position.offset));
    }
  }
}

/** Three instances (Express, Fastify, Express) sharing the broker given by `env` (`REDIS_URL` or `REDIS_CLUSTER`). */
export function startThreeInstances(env: Record<string, string>) {
  return Promise.all(
    ['express', 'fastify', 'express'].map((PLATFORM) => startInstance({ PLATFORM, ...env })),
  );
}

/**
 * The history issue's resume test on instances at `bases`: `dropAndResume` on `topics`, then
 * every client got each publication of its topics exactly once, in order.
 */
export async function expectResumeAcross(bases: string[], topics: string[]): Promise<void> {
  const run = await dropAndResume({ ...WORKLOAD, topics, bases });
  expectExactlyOnceInOrder(run.observer, run.clients, run.publishers);
  for (const publisher of run.publishers) publisher.close();
}
