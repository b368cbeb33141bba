/**
 * The `chat.v1` subprotocol: JSON text frames, one object per message.
 *
 * client -> server: `{ "type": "say", "text": "hello" }`
 * server -> client: `members` (to a newcomer), `joined`, `left`, `said`, `error`. A `said` reaches
 * the page in the library's resume envelope (`streamEnvelope`: the room's topic and position
 * around it), and the room's position comes before `members` (`subscribedEnvelope`), so the page's
 * `ReconnectingWebSocket` sends it back when it reconnects (`?since=`) and gets the `said` it
 * missed before `members` (`joined` and `left` come from the room's presence, not its history).
 */
export const CHAT_PROTOCOL = 'chat.v1';

/** Longest `text` of a `say`, in characters. */
export const MAX_TEXT_LENGTH = 500;

/** Largest frame the route accepts, in bytes: a bigger one closes the connection with 1009. */
export const MAX_FRAME_BYTES = 4096;

export interface Member {
  id: string;
  name: string;
}

export interface SayMessage {
  type: 'say';
  text: string;
}

export type ChatErrorCode = 'bad-json' | 'bad-message' | 'too-long' | 'rate-limited';

export interface ChatError {
  type: 'error';
  code: ChatErrorCode;
  message: string;
}

export type ServerMessage =
  | {
      type: 'members';
      room: string;
      you: Member;
      members: Member[];
      /** After a reconnect with `?since=`: whether every missed message was replayed (before this). */
      resumed?: { recovered: boolean; missed: number; reason?: string };
    }
  | { type: 'joined'; member: Member; at: number }
  | { type: 'left'; member: Member; at: number }
  | { type: 'said'; from: Member; text: string; at: number }
  | ChatError;

/** Reads a client's text frame: a `say`, or the `error` to answer (the connection stays open). */
export function parseClientMessage(frame: string): SayMessage | ChatError {
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    return chatError('bad-json', 'Messages are JSON objects, e.g. {"type":"say","text":"hi"}');
  }
  const message = value as Partial<SayMessage> | null;
  if (typeof message !== 'object' || message === null || message.type !== 'say') {
    return chatError(
      'bad-message',
      'Unknown message; chat.v1 clients send {"type":"say","text":…}',
    );
  }
  if (typeof message.text !== 'string' || message.text.trim() === '') {
    return chatError('bad-message', '"text" must be a non-empty string');
  }
  if (message.text.length > MAX_TEXT_LENGTH) {
    return chatError('too-long', `"text" is limited to ${MAX_TEXT_LENGTH} characters`);
  }
  return { type: 'say', text: message.text.trim() };
}

export function chatError(code: ChatErrorCode, message: string): ChatError {
  return { type: 'error', code, message };
}

/** `?room=`: lower case letters, digits, `-` and `_`, at most 32; default `lobby`. */
export function roomFrom(raw: string | null): string {
  const room = (raw ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 32);
  return room || 'lobby';
}

/** `?name=`: printable, whitespace collapsed, at most 24 characters; default `guest-<4 hex>`. */
export function nameFrom(raw: string | null, id: string): string {
  const name = (raw ?? '')
    .replace(/[\p{Cc}\p{Cf}]+/gu, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 24);
  return name || `guest-${id.slice(0, 4)}`;
}
