import { isDeepStrictEqual } from 'node:util';

/** A message as the test client receives it: text as `string`, binary as `Buffer`. */
export type WebSocketTestMessage = string | Buffer;

/**
 * What `expectMessage()` waits for: a string (equal text), a Buffer (equal bytes), a RegExp (text
 * that matches), a predicate, or any other value (a text message whose JSON equals it deeply).
 */
export type MessageExpectation =
  | string
  | Buffer
  | RegExp
  | ((message: WebSocketTestMessage) => boolean)
  | object
  | number
  | boolean
  | null;

/** Whether `message` satisfies `expected`; a predicate that throws counts as no match. */
export function matches(message: WebSocketTestMessage, expected: MessageExpectation): boolean {
  if (typeof expected === 'function') {
    try {
      return expected(message) === true;
    } catch {
      return false;
    }
  }
  if (Buffer.isBuffer(expected)) return Buffer.isBuffer(message) && expected.equals(message);
  if (typeof message !== 'string') return false;
  if (typeof expected === 'string') return message === expected;
  if (expected instanceof RegExp) return expected.test(message);
  try {
    return isDeepStrictEqual(JSON.parse(message), expected);
  } catch {
    return false;
  }
}

/** A short, readable form of what was expected, for error messages. */
export function describeExpectation(expected: MessageExpectation): string {
  if (typeof expected === 'function')
    return `a message matching ${expected.name || 'the predicate'}`;
  if (expected instanceof RegExp) return `a text message matching ${String(expected)}`;
  if (typeof expected === 'string' || Buffer.isBuffer(expected))
    return `the message ${describeMessage(expected)}`;
  return `a JSON message equal to ${truncate(JSON.stringify(expected))}`;
}

/** A short, readable form of one message: quoted text, or the first bytes of a binary message. */
export function describeMessage(message: WebSocketTestMessage): string {
  if (typeof message === 'string') return truncate(JSON.stringify(message));
  const hex = [...message.subarray(0, 16)].map((byte) => byte.toString(16).padStart(2, '0'));
  return `<binary ${hex.join(' ')}${message.length > 16 ? ' …' : ''} (${message.length} bytes)>`;
}

/** "nothing", or the messages in order (at most 10 shown). */
export function describeMessages(messages: readonly WebSocketTestMessage[]): string {
  if (messages.length === 0) return 'nothing';
  const shown = messages.slice(0, 10).map(describeMessage).join(', ');
  return messages.length > 10 ? `${shown} and ${messages.length - 10} more` : shown;
}

function truncate(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
