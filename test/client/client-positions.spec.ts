import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { until, watchedClient } from './client-harness.js';

const pub = (offset: number, epoch = 'e1') =>
  JSON.stringify({ topic: 't', offset, epoch, data: `#${offset}` });
const reply = (offset: number, recovered = true, epoch = 'e1', reason?: string) =>
  JSON.stringify({ topic: 't', offset, epoch, recovered, reason });

/** A `ws` server that sends each connection the frames given for it, in order. */
async function serverSending(...perConnection: string[][]) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const urls: string[] = [];
  server.on('connection', (socket, request) => {
    urls.push(request.url!);
    for (const frame of perConnection[urls.length - 1] ?? []) socket.send(frame);
  });
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, urls, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/t` };
}

describe('positions kept by the client (frames from a real ws server)', () => {
  let server: WebSocketServer | undefined;
  afterEach(() => new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined))));

  it('never steps back, drops what it saw already, and passes other frames through', async () => {
    const sending = await serverSending([
      pub(5),
      reply(3), // older than what it saw: ignored
      pub(5), // seen already: dropped
      '{"type":"app"}',
      pub(6),
    ]);
    server = sending.server;
    const { client, seen, events } = watchedClient(sending.url);
    await until('#6', () => seen.get('t')?.length === 2);
    expect(seen.get('t')).toEqual([
      { offset: 5, data: '#5' },
      { offset: 6, data: '#6' },
    ]);
    expect(client.positions.get('t')).toEqual({ offset: 6, epoch: 'e1' });
    const messages = events.filter(({ type }) => type === 'message').map(({ event }) => event);
    expect(messages.map((event) => ('topic' in event ? event.topic : undefined))).toEqual([
      't',
      undefined,
      't',
    ]);
    client.close();
  });

  it('a subscribe reply with recovered: false fires `lost` and takes the new stream position', async () => {
    const sending = await serverSending([pub(2)], [reply(0, false, 'e2', 'epoch'), pub(1, 'e2')]);
    server = sending.server;
    const { client, seen, of } = watchedClient(sending.url);
    await until('#2', () => seen.get('t')?.length === 1);
    for (const socket of sending.server.clients) socket.close(1012, 'restart');
    await until('#1 of e2', () => seen.get('t')?.length === 2);
    expect(sending.urls).toEqual(['/t', '/t?since=2%3Ae1%3At']);
    expect(of('lost').map(({ topic, reason }) => [topic, reason])).toEqual([['t', 'epoch']]);
    expect(client.positions.get('t')).toEqual({ offset: 1, epoch: 'e2' });
    client.close();
  });
});
