import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { ServerMessage } from '../../sample/chat/chat.protocol.js';
import { closed, connect, nextMessage } from '../support/app.js';
import { startProcess, type RunningProcess } from '../support/process.js';
import { handshakeRequest, rawRequest } from '../support/raw-http.js';
import { joinChat, type ChatClient } from './chat-client.js';

const LISTENING = /Listening on http:\/\/[^:]+:(\d+)/;

function startSample(env: Record<string, string> = {}) {
  // No REDIS_URL from the environment: this suite is about one instance on its own.
  const defaults = { PORT: '0', HOST: '127.0.0.1', REDIS_URL: '' };
  return startProcess('dist/sample/main.js', { ...defaults, ...env }, LISTENING);
}

describe('reference sample (built, run as its own process)', () => {
  let sample: RunningProcess;
  let port: number;
  const ws = (path: string) => `ws://127.0.0.1:${port}${path}`;
  const http = (path: string) => `http://127.0.0.1:${port}${path}`;
  const clients: WebSocket[] = [];
  const track = <T extends WebSocket | ChatClient>(client: T): T => {
    clients.push('socket' in client ? client.socket : client);
    return client;
  };

  beforeAll(async () => {
    const started = await startSample();
    sample = started;
    port = Number(started.match[1]);
  });

  afterAll(async () => {
    for (const client of clients) client.terminate();
    sample?.child.kill('SIGTERM');
    await sample?.exited;
  });

  describe('GET / serves the chat page', () => {
    it.each([
      ['/', 'text/html', '<script type="module" src="app.js"></script>'],
      ['/app.js', 'text/javascript', "const PROTOCOL = 'chat.v1';"],
      ['/style.css', 'text/css', '.message.mine'],
      ['/lib/client/index.js', 'text/javascript', 'ReconnectingWebSocket'],
      ['/lib/close-codes.js', 'text/javascript', 'LOST_CONTINUITY'],
    ])('%s as %s', async (path, type, excerpt) => {
      const response = await fetch(http(path));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain(type);
      expect(await response.text()).toContain(excerpt);
    });

    it.each(['/lib/index.js', '/lib/client/index.d.ts', '/lib/client/..%2F..%2Fpackage.json'])(
      '%s: 404, only the modules of the client are served from dist/src/',
      async (path) => {
        expect((await fetch(http(path))).status).toBe(404);
      },
    );
  });

  it('/echo echoes text and binary', async () => {
    const client = track(await connect(ws('/echo')));
    client.send('hello sample');
    expect(await nextMessage(client)).toBe('hello sample');
    client.send(Buffer.from([1, 2, 3]));
    expect(await nextMessage(client)).toEqual(Buffer.from([1, 2, 3]));
    expect(client.extensions).toBe('');
  });

  it('/echo/deflate negotiates permessage-deflate and echoes through it', async () => {
    const client = track(await connect(ws('/echo/deflate')));
    expect(client.extensions).toContain('permessage-deflate');
    const big = 'compressible '.repeat(1000);
    client.send(big);
    expect(await nextMessage(client)).toBe(big);
  });

  describe('/secure/echo', () => {
    it('answers 401 with a JSON reason without a token or with a wrong one', async () => {
      for (const authorization of [null, 'Bearer wrong', 'Basic x']) {
        const headers = { Authorization: authorization };
        const response = await rawRequest(port, handshakeRequest('/secure/echo', headers));
        expect(response.status).toBe(401);
        expect(JSON.parse(response.body)).toMatchObject({ statusCode: 401 });
        expect(response.closedByServer).toBe(true);
      }
      await expect(connect(ws('/secure/echo?token=wrong'))).rejects.toThrow('401');
    });

    it('echoes with Authorization: Bearer sample-token or ?token=sample-token', async () => {
      const byHeader = track(
        await connect(ws('/secure/echo'), undefined, {
          headers: { Authorization: 'Bearer sample-token' },
        }),
      );
      byHeader.send('by header');
      expect(await nextMessage(byHeader)).toBe('by header');
      const byQuery = track(await connect(ws('/secure/echo?token=sample-token')));
      byQuery.send('by query');
      expect(await nextMessage(byQuery)).toBe('by query');
    });
  });

  describe('/chat', () => {
    it('requires the chat.v1 subprotocol: 400 at the handshake otherwise', async () => {
      await expect(connect(ws('/chat'))).rejects.toThrow('400');
      await expect(connect(ws('/chat'), 'chat.v0')).rejects.toThrow('400');
      const client = track(await joinChat(port, 'protocol', 'Ada'));
      expect(client.socket.protocol).toBe('chat.v1');
    });

    it('lists the members to a newcomer and announces joins, messages and leaves to the room', async () => {
      const ada = track(await joinChat(port, 'tour', 'Ada'));
      const welcome = await ada.next();
      expect(welcome).toMatchObject({ type: 'members', room: 'tour', you: { name: 'Ada' } });
      const adaId = (welcome as Extract<ServerMessage, { type: 'members' }>).you.id;

      const grace = track(await joinChat(port, 'tour', 'Grace'));
      const graceWelcome = await grace.next();
      expect(graceWelcome).toMatchObject({ type: 'members', you: { name: 'Grace' } });
      expect(
        (graceWelcome as Extract<ServerMessage, { type: 'members' }>).members
          .map((member) => member.name)
          .toSorted(),
      ).toEqual(['Ada', 'Grace']);
      expect(await ada.next()).toMatchObject({ type: 'joined', member: { name: 'Grace' } });

      grace.say('  hello Ada  ');
      const said = { type: 'said', from: { name: 'Grace' }, text: 'hello Ada' };
      expect(await ada.next()).toMatchObject(said);
      expect(await grace.next()).toMatchObject(said); // the sender too: it confirms the order

      // Another room is another topic: Bob's message reaches Bob only.
      const bob = track(await joinChat(port, 'elsewhere', 'Bob'));
      await bob.next();
      bob.say('not for the tour');
      expect(await bob.next()).toMatchObject({ type: 'said', text: 'not for the tour' });
      grace.say('second');
      expect(await ada.next()).toMatchObject({ type: 'said', text: 'second' });

      grace.socket.close();
      expect(await ada.next()).toMatchObject({ type: 'left', member: { name: 'Grace' } });
      ada.say('alone');
      expect(await ada.next()).toMatchObject({ type: 'said', from: { id: adaId } });
    });

    it('normalises the room and the name, with defaults', async () => {
      const client = track(await joinChat(port, ' My Room!! ', '  Ada \u0007 Lovelace  '));
      expect(await client.next()).toMatchObject({ room: 'my-room', you: { name: 'Ada Lovelace' } });
      const guest = track(await joinChat(port, '', ''));
      expect(await guest.next()).toMatchObject({ room: 'lobby', you: { name: /^guest-/ } });
    });

    it('answers malformed messages with an error and stays open', async () => {
      const client = track(await joinChat(port, 'validation', 'Ada'));
      await client.next();
      client.socket.send('{not json');
      expect(await client.next()).toMatchObject({ type: 'error', code: 'bad-json' });
      client.socket.send(JSON.stringify({ type: 'shout', text: 'hi' }));
      expect(await client.next()).toMatchObject({ type: 'error', code: 'bad-message' });
      client.socket.send('null');
      expect(await client.next()).toMatchObject({ type: 'error', code: 'bad-message' });
      client.say('   ');
      expect(await client.next()).toMatchObject({ type: 'error', code: 'bad-message' });
      client.say('x'.repeat(501));
      expect(await client.next()).toMatchObject({ type: 'error', code: 'too-long' });
      client.say('still here');
      expect(await client.next()).toMatchObject({ type: 'said', text: 'still here' });
    });

    it.each([
      ['a binary frame', 1003, (socket: WebSocket) => socket.send(Buffer.from('{"type":"say"}'))],
      [
        'invalid UTF-8 in a text frame',
        1007,
        (socket: WebSocket) => socket.send(Buffer.from([0x7b, 0xff, 0xfe]), { binary: false }),
      ],
      ['a frame over 4 KiB', 1009, (socket: WebSocket) => socket.send('x'.repeat(5000))],
    ])('closes on %s with %i, and the sample goes on', async (_what, code, send) => {
      const client = track(await joinChat(port, `bad-frames-${code}`, 'Mallory'));
      await client.next();
      const done = closed(client.socket);
      send(client.socket);
      expect((await done).code).toBe(code);
      const next = track(await joinChat(port, `bad-frames-${code}`, 'Ada'));
      expect(await next.next()).toMatchObject({ type: 'members', members: [{ name: 'Ada' }] });
    });

    it('refuses messages past the rate limit with an error, and keeps the connection', async () => {
      const client = track(await joinChat(port, 'rate', 'Eager'));
      await client.next();
      // 12 at once: the bucket holds 8 and refills 2 a second.
      for (let i = 0; i < 12; i++) client.say(`message ${i}`);
      const received = await Promise.all(Array.from({ length: 12 }, () => client.next()));
      const refused = received.filter((message) => message.type === 'error');
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0]).toMatchObject({ code: 'rate-limited' });
      expect(received.filter((message) => message.type === 'said').length).toBeGreaterThan(0);
      expect(client.socket.readyState).toBe(client.socket.OPEN);
    });

    it('closes a connection that keeps flooding with 1008', async () => {
      const client = track(await joinChat(port, 'rate', 'Flooder'));
      await client.next();
      const done = closed(client.socket);
      for (let i = 0; i < 40; i++) client.say(`flood ${i}`);
      expect(await done).toEqual({ code: 1008, reason: 'rate limit exceeded' });
    });
  });
});

describe('reference sample settings', () => {
  it('takes the token from SAMPLE_TOKEN, and closes with 1001 on SIGTERM, then exits', async () => {
    const sample = await startSample({ SAMPLE_TOKEN: 's3cret' });
    const port = sample.match[1];
    await expect(connect(`ws://127.0.0.1:${port}/secure/echo?token=sample-token`)).rejects.toThrow(
      '401',
    );
    const client = await connect(`ws://127.0.0.1:${port}/secure/echo?token=s3cret`);
    client.send('hello sample');
    expect(await nextMessage(client)).toBe('hello sample');
    const done = closed(client);
    sample.child.kill('SIGTERM');
    expect((await done).code).toBe(1001);
    expect(await sample.exited).toBe('SIGTERM');
  });
});
