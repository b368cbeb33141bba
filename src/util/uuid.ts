import { randomFillSync } from 'node:crypto';

/** Random bytes for 128 UUIDs, refilled when spent (as Node's `randomUUID()` caches its entropy). */
const POOL_BYTES = 16 * 128;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;
/** The 36 ASCII characters of the UUID being written. */
const text = Buffer.allocUnsafe(36);
/** Two hex digits of each byte value, as one 16-bit little-endian pair of char codes. */
const HEX_PAIRS = new Uint16Array(256);
for (let byte = 0; byte < 256; byte++) {
  const digits = byte.toString(16).padStart(2, '0');
  HEX_PAIRS[byte] = digits.charCodeAt(0) | (digits.charCodeAt(1) << 8);
}
const DASH = 0x2d;

/**
 * A random (version 4) UUID, RFC 9562 section 5.4, as one flat string: Node's `randomUUID()` builds
 * its result by concatenation, a rope of about 20 string pieces (~600 bytes of heap for each open
 * connection that keeps it), and flattening it costs a copy more. Here the 36 characters are
 * written into a buffer and read out once.
 */
export function flatRandomUuid(): string {
  if (offset === POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += 16;
  pool[at + 6] = (pool[at + 6] & 0x0f) | 0x40; // version 4
  pool[at + 8] = (pool[at + 8] & 0x3f) | 0x80; // variant 10xx
  let out = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[out++] = DASH;
    const pair = HEX_PAIRS[pool[at + i]];
    text[out++] = pair & 0xff;
    text[out++] = pair >> 8;
  }
  return text.toString('latin1', 0, 36);
}
