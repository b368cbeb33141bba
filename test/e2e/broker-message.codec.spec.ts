import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBrokerMessage,
  encodeBrokerMessage,
  isUnsequencedFrom,
} from '../../src/broker/broker-message.codec.js';
import type { BrokerMessage } from '../../src/interfaces/websocket-broker.interface.js';

const data = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
);
const message: fc.Arbitrary<BrokerMessage> = fc.oneof(
  fc.record({
    kind: fc.constant('publish' as const),
    topic: fc.string({ unit: 'grapheme' }),
    data,
  }),
  fc.record({
    kind: fc.constant('broadcast' as const),
    path: fc.option(fc.string({ unit: 'grapheme' }), { nil: undefined }),
    data,
  }),
);

describe('broker message codec', () => {
  it('decodes what it encoded: kind, topic or path, origin, text as text and binary as binary', () => {
    fc.assert(
      fc.property(message, fc.uint8Array({ maxLength: 255 }), (sent, originBytes) => {
        const origin = Buffer.from(originBytes);
        const decoded = decodeBrokerMessage(encodeBrokerMessage(sent, origin));
        expect(decoded?.origin.equals(origin)).toBe(true);
        expect(decoded?.message).toEqual(sent);
        expect(typeof decoded?.message.data).toBe(typeof sent.data);
      }),
    );
  });

  it('refuses bytes of another version or cut short', () => {
    const bytes = encodeBrokerMessage(
      { kind: 'publish', topic: 'room', data: 'hi' },
      Buffer.alloc(16),
    );
    expect(decodeBrokerMessage(Buffer.from('hello'))).toBeUndefined();
    expect(
      decodeBrokerMessage(Buffer.concat([Buffer.from([9]), bytes.subarray(1)])),
    ).toBeUndefined();
    expect(decodeBrokerMessage(bytes.subarray(0, 20))).toBeUndefined();
  });

  it('tells a message of its own origin without decoding it, and never a sequenced one', () => {
    fc.assert(
      fc.property(
        message,
        fc.uint8Array({ maxLength: 255 }),
        fc.uint8Array({ maxLength: 255 }),
        (sent, originBytes, otherBytes) => {
          const origin = Buffer.from(originBytes);
          const other = Buffer.from(otherBytes);
          const bytes = encodeBrokerMessage(sent, origin);
          expect(isUnsequencedFrom(bytes, origin)).toBe(true);
          expect(isUnsequencedFrom(bytes, other)).toBe(other.equals(origin));
          // As the Redis script publishes it: the same bytes behind `S<epoch>:<offset>:`.
          const sequenced = Buffer.concat([Buffer.from('Sepoch:7:'), bytes]);
          expect(isUnsequencedFrom(sequenced, origin)).toBe(false);
        },
      ),
    );
    const origin = Buffer.alloc(16, 1);
    const bytes = encodeBrokerMessage({ kind: 'publish', topic: 'room', data: 'hi' }, origin);
    expect(isUnsequencedFrom(bytes.subarray(0, 10), origin)).toBe(false);
    expect(isUnsequencedFrom(Buffer.from('hello'), origin)).toBe(false);
  });
});
