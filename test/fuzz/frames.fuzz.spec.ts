import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebSocketRegistry } from '../../src/index.js';
import { SMALL_MAX_PAYLOAD, useConformanceApp } from '../conformance/conformance.app.js';
import { ADAPTERS, connect, nextMessage, until } from '../support/app.js';
import { encodeFrame, frames, OP, RawWebSocket } from '../support/frames.js';
import { FUZZ_SEED, fuzzRuns, fuzzTimeout, watchProcessErrors } from './fuzz.settings.js';

const RUNS = fuzzRuns(40);

/** A valid message: sent whole or in fragments, with pings between the fragments. */
interface ValidMessage {
  kind: 'message';
  opcode: typeof OP.text | typeof OP.binary;
  payload: Buffer;
  /** Fragment boundaries, as fractions of the payload. */
  cuts: number[];
  pingBetween: boolean;
}
interface Ping {
  kind: 'ping';
  payload: Buffer;
}
/** What ends the stream: a malformed frame (and the close code it must get) or a clean close. */
interface Ending {
  bytes: readonly Buffer[];
  code: number | undefined;
  what: string;
}

const validMessage: fc.Arbitrary<ValidMessage> = fc.oneof(
  fc.record({
    kind: fc.constant('message' as const),
    opcode: fc.constant(OP.text),
    payload: fc
      .string({ unit: 'binary', maxLength: 60 })
      .map((text) => Buffer.from(text))
      .filter((bytes) => bytes.length <= SMALL_MAX_PAYLOAD),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
    pingBetween: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('message' as const),
    opcode: fc.constant(OP.binary),
    payload: fc.uint8Array({ maxLength: SMALL_MAX_PAYLOAD }).map((bytes) => Buffer.from(bytes)),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
    pingBetween: fc.boolean(),
  }),
);
const ping: fc.Arbitrary<Ping> = fc.record({
  kind: fc.constant('ping' as const),
  payload: fc.uint8Array({ maxLength: 125 }).map((bytes) => Buffer.from(bytes)),
});

const INVALID_UTF8 = [[0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xc0, 0xaf]];
const endingArbitrary: fc.Arbitrary<Ending> = fc.oneof(
  fc.constant({ bytes: [frames.close(1000)], code: 1000, what: 'clean close' }),
  fc.constantFrom(1001, 1003, 1011, 3000, 4999).map((code) => ({
    bytes: [frames.close(code, 'bye')],
    code,
    what: `close ${code}`,
  })),
  fc.constant({
    bytes: [encodeFrame({ opcode: OP.text, payload: 'x', mask: false })],
    code: 1002,
    what: 'unmasked frame',
  }),
  fc.integer({ min: 1, max: 7 }).map((rsv) => ({
    bytes: [encodeFrame({ opcode: OP.binary, payload: 'x', rsv })],
    code: 1002,
    what: `rsv ${rsv}`,
  })),
  fc.constantFrom(3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf).map((opcode) => ({
    bytes: [encodeFrame({ opcode, payload: 'x' })],
    code: 1002,
    what: `opcode ${opcode}`,
  })),
  fc.constant({
    bytes: [encodeFrame({ opcode: OP.ping, payload: 'p', fin: false })],
    code: 1002,
    what: 'fragmented ping',
  }),
  fc.integer({ min: 126, max: 300 }).map((length) => ({
    bytes: [encodeFrame({ opcode: OP.ping, payload: Buffer.alloc(length) })],
    code: 1002,
    what: `ping of ${length} bytes`,
  })),
  fc.constant({ bytes: [frames.continuation('x')], code: 1002, what: 'orphan continuation' }),
  fc.constant({
    bytes: [frames.text('a', false), frames.binary(Buffer.from('b'))],
    code: 1002,
    what: 'data frame inside a fragmented message',
  }),
  fc.constantFrom(0, 999, 1004, 1005, 1006, 1015, 2999, 5000).map((code) => ({
    bytes: [frames.close(code)],
    code: 1002,
    what: `close code ${code}`,
  })),
  fc.constant({
    bytes: [encodeFrame({ opcode: OP.close, payload: Buffer.from([1]) })],
    code: 1002,
    what: '1-byte close',
  }),
  fc.constantFrom(...INVALID_UTF8).map((bytes) => ({
    bytes: [frames.text(Buffer.concat([Buffer.from('ok'), Buffer.from(bytes)]))],
    code: 1007,
    what: `invalid UTF-8 ${bytes}`,
  })),
  fc.constant({
    bytes: [frames.close(1000, Buffer.from([0xff]))],
    code: 1007,
    what: 'invalid UTF-8 close reason',
  }),
  fc.integer({ min: SMALL_MAX_PAYLOAD + 1, max: SMALL_MAX_PAYLOAD + 500 }).map((length) => ({
    bytes: [frames.binary(Buffer.alloc(length))],
    code: 1009,
    what: `message of ${length} bytes`,
  })),
);

/** Encodes a valid item and returns what the server must send back for it, in order. */
function encodeItem(item: ValidMessage | Ping): { bytes: Buffer[]; replies: string[] } {
  if (item.kind === 'ping')
    return {
      bytes: [frames.ping(item.payload)],
      replies: [`pong:${item.payload.toString('hex')}`],
    };
  const points = [...new Set(item.cuts.map((c) => Math.floor(c * item.payload.length)))].toSorted(
    (a, b) => a - b,
  );
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, item.payload.length]) {
    if (point < start) continue;
    pieces.push(item.payload.subarray(start, point));
    start = point;
  }
  const bytes: Buffer[] = [];
  const replies: string[] = [];
  pieces.forEach((piece, index) => {
    const last = index === pieces.length - 1;
    bytes.push(
      encodeFrame({
        opcode: index === 0 ? item.opcode : OP.continuation,
        payload: piece,
        fin: last,
      }),
    );
    if (!last && item.pingBetween) {
      bytes.push(frames.ping(String(index)));
      replies.push(`pong:${Buffer.from(String(index)).toString('hex')}`);
    }
  });
  replies.push(`${item.opcode}:${item.payload.toString('hex')}`);
  return { bytes, replies };
}

const scenario = fc.record({
  items: fc.array(fc.oneof(validMessage, validMessage, ping), { maxLength: 6 }),
  ending: endingArbitrary,
  /** Where the byte stream is split into writes, as fractions of its length. */
  splits: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
});

describe.each(ADAPTERS)('frame stream fuzzing (%s)', (adapter) => {
  let port: number;
  let registry: WebSocketRegistry;

  useConformanceApp(adapter, (started) => ({ port, registry } = started));

  it(
    `echoes every valid message, then closes with the right code, never crashing (seed ${FUZZ_SEED}, ${RUNS} runs)`,
    async () => {
      console.log(`frame fuzzing (${adapter}): seed ${FUZZ_SEED}, ${RUNS} runs`);
      const watch = watchProcessErrors();
      try {
        await fc.assert(
          fc.asyncProperty(scenario, async ({ items, ending, splits }) => {
            const encoded = items.map(encodeItem);
            const stream = Buffer.concat([...encoded.flatMap((e) => e.bytes), ...ending.bytes]);
            const cuts = [...new Set(splits.map((s) => Math.floor(s * stream.length)))].toSorted(
              (a, b) => a - b,
            );
            const client = await RawWebSocket.open(port, '/small');
            try {
              let start = 0;
              for (const cut of [...cuts, stream.length]) {
                if (cut <= start) continue;
                client.write(stream.subarray(start, cut));
                start = cut;
                await new Promise((resolve) => setImmediate(resolve));
              }
              const result = await client.expectClose();
              const replies = result.before.map((frame) =>
                frame.opcode === OP.pong
                  ? `pong:${frame.payload.toString('hex')}`
                  : `${frame.opcode}:${frame.payload.toString('hex')}`,
              );
              expect({ replies, code: result.code, tcpClosed: result.tcpClosed }).toEqual({
                replies: encoded.flatMap((e) => e.replies),
                code: ending.code,
                tcpClosed: true,
              });
              expect(watch.errors).toEqual([]);
            } finally {
              client.destroy();
            }
          }),
          { numRuns: RUNS, seed: FUZZ_SEED, endOnFailure: true },
        );
      } finally {
        watch.stop();
      }
      await until(() => registry.size === 0, 5000, 'the registry to be empty');
      const client = await connect(`ws://127.0.0.1:${port}/echo`);
      client.send('after fuzzing');
      expect(await nextMessage(client)).toBe('after fuzzing');
      client.terminate();
    },
    fuzzTimeout(RUNS, 200),
  );
});
