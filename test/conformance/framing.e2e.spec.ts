import { randomBytes } from 'node:crypto';
import { constants, inflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketRegistry } from '../../src/index.js';
import { ADAPTERS, closed, connect, nextMessage, until } from '../support/app.js';
import { closePayload, encodeFrame, frames, OP, RawWebSocket } from '../support/frames.js';
import { SMALL_MAX_PAYLOAD, useConformanceApp } from './conformance.app.js';

/** Close codes a peer may not send (RFC 6455 7.4): the server must fail the connection with 1002. */
const INVALID_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000];
/** Close codes a peer may send: the server answers the close with the same code. */
const VALID_CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999];

/** What a failed connection looks like: the close code, then the TCP connection closed. */
const failedWith = (code: number) => ({ code, tcpClosed: true });

describe.each(ADAPTERS)('RFC 6455 framing conformance (%s)', (adapter) => {
  let port: number;
  let registry: WebSocketRegistry;
  const clients: { destroy(): void }[] = [];
  const open = async (path = '/echo', headers: Record<string, string | null> = {}) => {
    const client = await RawWebSocket.open(port, path, headers);
    clients.push(client);
    return client;
  };

  /** Sends `bytes`; resolves with the server's close code and whether it closed TCP afterwards. */
  async function failure(path: string, bytes: Buffer | Buffer[]) {
    const client = await open(path);
    client.write(bytes);
    const { code, tcpClosed } = await client.expectClose();
    return { code, tcpClosed };
  }

  useConformanceApp(adapter, (started) => ({ port, registry } = started));
  // Every connection a test opened is freed and forgotten by the registry.
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await until(() => registry.size === 0, 3000, 'the registry to be empty');
  });

  describe('payload lengths (7-bit, 16-bit and 64-bit encodings)', () => {
    it.each([0, 125, 126, 65535, 65536])(
      'echoes a %i-byte text and binary message intact',
      async (length) => {
        const client = await open();
        const text = 'é'.repeat(Math.floor(length / 2)) + 'x'.repeat(length % 2);
        const binary = randomBytes(length);
        client.write([frames.text(text), frames.binary(binary)]);
        const echoedText = await client.nextFrame();
        expect(echoedText.opcode).toBe(OP.text);
        expect(echoedText.payload.length).toBe(length);
        expect(echoedText.payload.toString()).toBe(text);
        const echoedBinary = await client.nextFrame();
        expect(echoedBinary.opcode).toBe(OP.binary);
        expect(echoedBinary.payload.equals(binary)).toBe(true);
        client.write(frames.close(1000));
        const result = await client.expectClose();
        expect(result.code).toBe(1000);
        expect(result.tcpClosed).toBe(true);
      },
    );
  });

  describe('fragmentation', () => {
    it('reassembles a text message split inside UTF-8 characters', async () => {
      const bytes = Buffer.from('h€llo 😀 wörld');
      // Split inside the 3-byte euro sign and inside the 4-byte emoji.
      const cuts = [2, bytes.indexOf(Buffer.from('😀')) + 2];
      const client = await open();
      client.write([
        frames.text(bytes.subarray(0, cuts[0]), false),
        frames.continuation(bytes.subarray(cuts[0], cuts[1]), false),
        frames.continuation(bytes.subarray(cuts[1]), true),
      ]);
      expect(await client.nextText()).toBe('h€llo 😀 wörld');
      client.destroy();
    });

    it('answers pings between fragments and keeps the message intact', async () => {
      const client = await open();
      client.write([
        frames.text('one ', false),
        frames.ping('p1'),
        frames.continuation('two ', false),
        frames.ping('p2'),
        frames.continuation('three', true),
      ]);
      const received = [
        await client.nextFrame(),
        await client.nextFrame(),
        await client.nextFrame(),
      ];
      expect(received.map((f) => [f.opcode, f.payload.toString()])).toEqual([
        [OP.pong, 'p1'],
        [OP.pong, 'p2'],
        [OP.text, 'one two three'],
      ]);
      client.destroy();
    });

    it('fails a continuation frame without a start with 1002', async () =>
      expect(await failure('/echo', frames.continuation('orphan'))).toEqual(failedWith(1002)));

    it.each([
      ['text', OP.text],
      ['binary', OP.binary],
    ])('fails a new %s frame inside a fragmented message with 1002', async (_name, opcode) =>
      expect(
        await failure('/echo', [
          frames.text('start', false),
          encodeFrame({ opcode, payload: 'again' }),
        ]),
      ).toEqual(failedWith(1002)),
    );
  });

  describe('protocol errors', () => {
    it('fails an unmasked client frame with 1002', async () =>
      expect(
        await failure('/echo', encodeFrame({ opcode: OP.text, payload: 'hi', mask: false })),
      ).toEqual(failedWith(1002)));

    it.each([1, 2, 4, 7])(
      'fails reserved bits %i set without an extension with 1002',
      async (rsv) =>
        expect(
          await failure('/echo', encodeFrame({ opcode: OP.text, payload: 'hi', rsv })),
        ).toEqual(failedWith(1002)),
    );

    it.each([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf])(
      'fails reserved opcode %i with 1002',
      async (opcode) =>
        expect(await failure('/echo', encodeFrame({ opcode, payload: 'x' }))).toEqual(
          failedWith(1002),
        ),
    );

    it('fails a fragmented control frame with 1002', async () =>
      expect(
        await failure('/echo', encodeFrame({ opcode: OP.ping, payload: 'p', fin: false })),
      ).toEqual(failedWith(1002)));

    it.each([
      ['ping', OP.ping],
      ['pong', OP.pong],
      ['close', OP.close],
    ])('fails a %s frame over 125 bytes with 1002', async (_name, opcode) =>
      expect(
        await failure(
          '/echo',
          encodeFrame({ opcode, payload: closePayload(1000, 'r'.repeat(124)) }),
        ),
      ).toEqual(failedWith(1002)),
    );
  });

  describe('closing', () => {
    it.each(INVALID_CLOSE_CODES)('fails close code %i with 1002', async (code) =>
      expect(await failure('/echo', frames.close(code))).toEqual(failedWith(1002)),
    );

    it('fails a 1-byte close payload with 1002', async () =>
      expect(
        await failure('/echo', encodeFrame({ opcode: OP.close, payload: Buffer.from([0x03]) })),
      ).toEqual(failedWith(1002)));

    it.each(VALID_CLOSE_CODES)('echoes close code %i', async (code) => {
      const client = await open();
      client.write(frames.close(code, 'bye'));
      const result = await client.expectClose();
      expect(result.code).toBe(code);
      expect(result.tcpClosed).toBe(true);
    });

    it('answers an empty close frame with an empty close frame', async () => {
      const client = await open();
      client.write(frames.close());
      const result = await client.expectClose();
      expect(result.code).toBeUndefined();
      expect(result.tcpClosed).toBe(true);
    });
  });

  describe('UTF-8', () => {
    it('fails invalid UTF-8 in a text message with 1007', async () =>
      expect(await failure('/echo', frames.text(Buffer.from([0x68, 0xc3, 0x28])))).toEqual(
        failedWith(1007),
      ));

    it('fails invalid UTF-8 across fragments with 1007', async () =>
      expect(
        await failure('/echo', [
          frames.text(Buffer.from([0xf0, 0x9f]), false),
          frames.continuation(Buffer.from([0x41])),
        ]),
      ).toEqual(failedWith(1007)));

    it('fails invalid UTF-8 in a close reason with 1007', async () =>
      expect(await failure('/echo', frames.close(1000, Buffer.from([0xff, 0xfe])))).toEqual(
        failedWith(1007),
      ));
  });

  describe('maxPayload', () => {
    it('echoes a message of exactly maxPayload bytes', async () => {
      const client = await open('/small');
      const payload = randomBytes(SMALL_MAX_PAYLOAD);
      client.write(frames.binary(payload));
      expect((await client.nextFrame()).payload.equals(payload)).toBe(true);
      client.destroy();
    });

    it('fails a message one byte over maxPayload with 1009', async () =>
      expect(await failure('/small', frames.binary(randomBytes(SMALL_MAX_PAYLOAD + 1)))).toEqual(
        failedWith(1009),
      ));

    it('fails a fragmented message one byte over maxPayload with 1009', async () =>
      expect(
        await failure('/small', [
          frames.text('a'.repeat(SMALL_MAX_PAYLOAD / 2), false),
          frames.continuation('b'.repeat(SMALL_MAX_PAYLOAD / 2 + 1)),
        ]),
      ).toEqual(failedWith(1009)));
  });

  describe('permessage-deflate', () => {
    const OFFER = 'permessage-deflate; client_max_window_bits';

    it('negotiates permessage-deflate on a route that enables it', async () => {
      const client = await open('/deflate', { 'Sec-WebSocket-Extensions': OFFER });
      expect(client.response.headers['sec-websocket-extensions']).toMatch(/^permessage-deflate\b/);
    });

    it('does not negotiate it on a route that leaves it off', async () => {
      const client = await open('/echo', { 'Sec-WebSocket-Extensions': OFFER });
      expect(client.response.status).toBe(101);
      expect(client.response.headers['sec-websocket-extensions']).toBeUndefined();
    });

    it('compresses what it sends (RSV1 set, payload inflates to the message)', async () => {
      const client = await open('/deflate', { 'Sec-WebSocket-Extensions': OFFER });
      const message = 'compress me '.repeat(400); // above the 1 KiB threshold
      client.write(frames.text(message)); // RSV1 clear: an uncompressed message is allowed
      const echoed = await client.nextFrame();
      expect(echoed.rsv).toBe(4);
      expect(echoed.payload.length).toBeLessThan(message.length);
      const inflated = inflateRawSync(
        Buffer.concat([echoed.payload, Buffer.from([0x00, 0x00, 0xff, 0xff])]),
        { finishFlush: constants.Z_SYNC_FLUSH },
      );
      expect(inflated.toString()).toBe(message);
      client.destroy();
    });

    it('round-trips compressed messages with a ws client', async () => {
      const client = await connect(`ws://127.0.0.1:${port}/deflate`, undefined, {
        perMessageDeflate: true,
      });
      expect(client.extensions).toMatch(/permessage-deflate/);
      const large = JSON.stringify(
        Array.from({ length: 500 }, (_, i) => ({ i, name: `item ${i}` })),
      );
      client.send(large);
      expect(await nextMessage(client)).toBe(large);
      client.send('small');
      expect(await nextMessage(client)).toBe('small');
      const done = closed(client);
      client.close(1000);
      expect((await done).code).toBe(1000);
    });
  });
});
