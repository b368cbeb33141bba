import { Controller, Injectable, Module, type INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
  type PresenceEvent,
  type WebSocketMessage,
} from '../../src/index.js';
import { presenceInfoNotJsonMessage } from '../../src/presence/presence.messages.js';
import { connectWebSocket, type WebSocketTestClient } from '../../src/testing/index.js';
import { ADAPTERS, startApp, until } from '../support/app.js';

/** Joins the lobby's presence as `?name=`; reports every presence change of the lobby as JSON. */
@Injectable()
class LobbyHandler extends WebSocketHandler {
  override async onOpen() {
    await this.joinPresence('lobby', { name: this.query.get('name') });
    this.send(JSON.stringify({ joined: true }));
  }
  override async onMessage(data: WebSocketMessage) {
    if (data === 'leave') await this.leavePresence('lobby');
    if (data === 'bad') {
      await this.joinPresence('lobby', { big: 1n }).catch((error: Error) =>
        this.send(JSON.stringify({ error: error.message, type: error.name })),
      );
    }
    if (data === 'array') {
      await this.joinPresence('lobby', [] as never).catch((error: Error) =>
        this.send(JSON.stringify({ error: error.message })),
      );
    }
  }
  override onPresence(event: PresenceEvent) {
    this.send(JSON.stringify(event));
  }
}

@Controller()
class LobbyController {
  @WebSocketRoute('/lobby', LobbyHandler)
  lobby() {}
}

@Module({ imports: [WsModule.forRoot()], controllers: [LobbyController] })
class AppModule {}

type Received = Record<string, any>;

/** A client in the lobby, and every JSON message it got. */
interface Member {
  socket: WebSocketTestClient;
  readonly got: Received[];
}

async function join(url: string, name: string): Promise<Member> {
  const socket = await connectWebSocket(`${url}?name=${name}`);
  const member = {
    socket,
    get got(): Received[] {
      return socket.messages.map((data) => JSON.parse(String(data)) as Received);
    },
  };
  await until(() => member.got.some((message) => message.joined));
  return member;
}

const names = (members: { info: Record<string, unknown> }[]) =>
  members.map((member) => member.info.name).toSorted();

describe.each(ADAPTERS)('presence in one process (%s)', (adapter) => {
  let app: INestApplication;
  let registry: WebSocketRegistry;
  let lobby: string;
  const clients: WebSocketTestClient[] = [];

  const start = async () => {
    const started = await startApp({ imports: [AppModule] }, undefined, adapter);
    app = started.app;
    lobby = started.url('/lobby');
    registry = app.get(WebSocketRegistry);
  };
  const enter = async (name: string) => {
    const client = await join(lobby, name);
    clients.push(client.socket);
    return client;
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await app?.close();
  });

  it('lists and counts the members with their info, and emits each join on presence$', async () => {
    await start();
    const events: PresenceEvent[] = [];
    registry.presence$.subscribe((event) => events.push(event));
    const ada = await enter('Ada');
    await enter('Grace');
    const members = await registry.presence('lobby');
    expect(names(members)).toEqual(['Ada', 'Grace']);
    expect(members.map((member) => member.clientId)).toContain(
      registry.filter(() => true).find((handler) => handler.query.get('name') === 'Ada')!.id,
    );
    expect(await registry.presenceCount('lobby')).toBe(2);
    expect(await registry.presenceCount('nobody-here')).toBe(0);
    expect(await registry.presence('nobody-here')).toEqual([]);
    expect(events.map((event) => [event.topic, names(event.joins), event.leaves])).toEqual([
      ['lobby', ['Ada'], []],
      ['lobby', ['Grace'], []],
    ]);
    expect(registry.stats().presence).toEqual({ name: 'in-process', connected: true, members: 2 });
    // Ada's onPresence saw her own join, then Grace's.
    await until(() => ada.got.filter((message) => message.topic).length === 2);
    expect(ada.got.filter((message) => message.topic).map((e) => names(e.joins))).toEqual([
      ['Ada'],
      ['Grace'],
    ]);
  });

  it('a closed connection leaves, and the members that follow the topic hear it', async () => {
    await start();
    const ada = await enter('Ada');
    const grace = await enter('Grace');
    await grace.socket.close();
    await until(() => ada.got.some((message) => message.leaves?.length === 1));
    const leave = ada.got.find((message) => message.leaves?.length === 1)!;
    expect(leave).toMatchObject({
      topic: 'lobby',
      joins: [],
      leaves: [{ info: { name: 'Grace' } }],
    });
    expect(names(await registry.presence('lobby'))).toEqual(['Ada']);
    expect(registry.stats().presence.members).toBe(1);
  });

  it('leavePresence() leaves the topic while the connection stays open', async () => {
    await start();
    const ada = await enter('Ada');
    const grace = await enter('Grace');
    grace.socket.send('leave');
    await until(() => ada.got.some((message) => message.leaves?.length === 1));
    expect(names(await registry.presence('lobby'))).toEqual(['Ada']);
    expect(grace.socket.isOpen).toBe(true);
    // Closing later announces nothing more: Grace had left already.
    await grace.socket.close();
    await until(() => registry.size === 1);
    ada.socket.send('leave');
    for (let i = 0; i < 100 && (await registry.presenceCount('lobby')) > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await registry.presenceCount('lobby')).toBe(0);
    expect(ada.got.filter((message) => message.leaves?.length > 0)).toHaveLength(1);
  });

  it('refuses info that is not a JSON object with a TypeError, and keeps the connection', async () => {
    await start();
    const ada = await enter('Ada');
    ada.socket.send('bad');
    ada.socket.send('array');
    await until(() => ada.got.filter((message) => message.error).length === 2);
    const [bigint, array] = ada.got.filter((message) => message.error);
    expect(bigint.type).toBe('TypeError');
    expect(bigint.error).toMatch(presenceInfoNotJsonMessage('lobby', '').slice(0, -2));
    expect(bigint.error).toMatch(/BigInt/);
    expect(array.error).toBe(presenceInfoNotJsonMessage('lobby', 'not an object'));
    expect(names(await registry.presence('lobby'))).toEqual(['Ada']);
    expect(ada.socket.isOpen).toBe(true);
  });
});
