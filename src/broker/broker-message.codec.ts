import type { BrokerMessage } from '../interfaces/websocket-broker.interface.js';

const VERSION = 1;
const BROADCAST = 0b001;
const BINARY = 0b010;
const HAS_PATH = 0b100;
const HAS_EXCEPT = 0b1000;
/** A sequenced publication starts with `S<epoch>:<offset>:` (written by the Redis Lua script). */
const SEQUENCED = 0x53;
const COLON = 0x3a;
/** version, flags, origin length (u8), name length (u32). */
const FIXED_BYTES = 7;

/**
 * Encodes a broker message for the wire: version, flags (kind, text or binary, path given), the
 * origin instance's id (at most 255 bytes), the topic or path, the excepted connection's id if
 * any (a length byte, then the id), then the payload as is, so binary stays binary and text stays
 * text without base64 or JSON escaping. `history` and `position` do not travel here.
 */
export function encodeBrokerMessage(message: BrokerMessage, origin: Buffer): Buffer {
  const name = message.kind === 'publish' ? message.topic : (message.path ?? '');
  const nameBytes = Buffer.byteLength(name);
  const except = message.kind === 'publish' ? message.except : undefined;
  const exceptBytes = except === undefined ? 0 : 1 + Buffer.byteLength(except);
  const binary = typeof message.data !== 'string';
  const payloadBytes = binary ? message.data.length : Buffer.byteLength(message.data);
  const out = Buffer.allocUnsafe(
    FIXED_BYTES + origin.length + nameBytes + exceptBytes + payloadBytes,
  );
  let flags = (binary ? BINARY : 0) | (except === undefined ? 0 : HAS_EXCEPT);
  if (message.kind === 'broadcast')
    flags |= BROADCAST | (message.path === undefined ? 0 : HAS_PATH);
  out[0] = VERSION;
  out[1] = flags;
  out[2] = origin.length;
  out.writeUInt32BE(nameBytes, 3);
  let offset = FIXED_BYTES + origin.copy(out, FIXED_BYTES);
  offset += out.write(name, offset);
  if (except !== undefined) {
    out[offset] = exceptBytes - 1;
    offset += 1 + out.write(except, offset + 1);
  }
  if (binary) (message.data as Buffer).copy(out, offset);
  else out.write(message.data as string, offset);
  return out;
}

/**
 * Whether `bytes` are an unsequenced message that `encodeBrokerMessage` tagged with `origin`, read
 * without decoding it: a broker drops its own publications that Redis echoes back before paying
 * for their topic and payload strings. False for a sequenced publication (`S<epoch>:…`), which
 * reaches its origin too.
 */
export function isUnsequencedFrom(bytes: Buffer, origin: Buffer): boolean {
  if (bytes.length < FIXED_BYTES + origin.length || bytes[0] !== VERSION) return false;
  return (
    bytes[2] === origin.length &&
    origin.compare(bytes, FIXED_BYTES, FIXED_BYTES + origin.length) === 0
  );
}

/**
 * Decodes what `encodeBrokerMessage` produced; `origin` is a view into `bytes`. Returns undefined
 * for bytes it does not understand (another version, or not a broker message at all).
 */
export function decodeBrokerMessage(
  bytes: Buffer,
): { origin: Buffer; message: BrokerMessage } | undefined {
  if (bytes.length < FIXED_BYTES || bytes[0] !== VERSION) return undefined;
  const flags = bytes[1];
  const originEnd = FIXED_BYTES + bytes[2];
  const nameEnd = originEnd + bytes.readUInt32BE(3);
  const exceptEnd = flags & HAS_EXCEPT ? nameEnd + 1 + bytes[nameEnd] : nameEnd;
  if (exceptEnd > bytes.length) return undefined;
  const origin = bytes.subarray(FIXED_BYTES, originEnd);
  const name = bytes.toString('utf8', originEnd, nameEnd);
  const data = flags & BINARY ? bytes.subarray(exceptEnd) : bytes.toString('utf8', exceptEnd);
  if (flags & BROADCAST) {
    return {
      origin,
      message: { kind: 'broadcast', path: flags & HAS_PATH ? name : undefined, data },
    };
  }
  const message: BrokerMessage = { kind: 'publish', topic: name, data };
  if (flags & HAS_EXCEPT) message.except = bytes.toString('utf8', nameEnd + 1, exceptEnd);
  return { origin, message };
}

/**
 * Decodes a publication as the Redis broker's Lua script publishes it: `S<epoch>:<offset>:`
 * followed by `encodeBrokerMessage`'s bytes. Falls back to `decodeBrokerMessage` for the rest.
 */
export function decodeSequencedMessage(
  bytes: Buffer,
): { origin: Buffer; message: BrokerMessage } | undefined {
  if (bytes[0] !== SEQUENCED) return decodeBrokerMessage(bytes);
  const epochEnd = bytes.indexOf(COLON, 1);
  const offsetEnd = epochEnd === -1 ? -1 : bytes.indexOf(COLON, epochEnd + 1);
  if (offsetEnd === -1) return undefined;
  const decoded = decodeBrokerMessage(bytes.subarray(offsetEnd + 1));
  const offset = Number(bytes.toString('latin1', epochEnd + 1, offsetEnd));
  if (decoded?.message.kind !== 'publish' || !Number.isSafeInteger(offset)) return undefined;
  decoded.message.position = { offset, epoch: bytes.toString('latin1', 1, epochEnd) };
  return decoded;
}
