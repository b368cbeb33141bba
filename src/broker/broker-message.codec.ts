import type { BrokerMessage } from './websocket-broker.interface.js';

const VERSION = 1;
const BROADCAST = 0b001;
const BINARY = 0b010;
const HAS_PATH = 0b100;
/** version, flags, origin length (u8), name length (u32). */
const FIXED_BYTES = 7;

/**
 * Encodes a broker message for the wire: version, flags (kind, text or binary, path given), the
 * origin instance's id (at most 255 bytes), the topic or path, then the payload as is, so binary
 * stays binary and text stays text without base64 or JSON escaping.
 */
export function encodeBrokerMessage(message: BrokerMessage, origin: Buffer): Buffer {
  const name = message.kind === 'publish' ? message.topic : (message.path ?? '');
  const nameBytes = Buffer.byteLength(name);
  const binary = typeof message.data !== 'string';
  const payloadBytes = binary ? message.data.length : Buffer.byteLength(message.data);
  const out = Buffer.allocUnsafe(FIXED_BYTES + origin.length + nameBytes + payloadBytes);
  let flags = binary ? BINARY : 0;
  if (message.kind === 'broadcast')
    flags |= BROADCAST | (message.path === undefined ? 0 : HAS_PATH);
  out[0] = VERSION;
  out[1] = flags;
  out[2] = origin.length;
  out.writeUInt32BE(nameBytes, 3);
  let offset = FIXED_BYTES + origin.copy(out, FIXED_BYTES);
  offset += out.write(name, offset);
  if (binary) (message.data as Buffer).copy(out, offset);
  else out.write(message.data as string, offset);
  return out;
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
  if (nameEnd > bytes.length) return undefined;
  const origin = bytes.subarray(FIXED_BYTES, originEnd);
  const name = bytes.toString('utf8', originEnd, nameEnd);
  const data = flags & BINARY ? bytes.subarray(nameEnd) : bytes.toString('utf8', nameEnd);
  const message: BrokerMessage =
    flags & BROADCAST
      ? { kind: 'broadcast', path: flags & HAS_PATH ? name : undefined, data }
      : { kind: 'publish', topic: name, data };
  return { origin, message };
}
