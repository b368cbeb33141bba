import { WebSocketCloseCode, isReconnectCloseCode } from '../close-codes.js';

/**
 * What the client does after a close with `code` (the library's convention, `isReconnectCloseCode`):
 * `'resume'` reconnect and send the positions it has; `'reload'` (3000, lost continuity) reconnect
 * without them and tell the app to reload; `'stop'` do not reconnect.
 */
export type CloseDecision = 'resume' | 'reload' | 'stop';

export function closeDecision(code: number): CloseDecision {
  if (code === WebSocketCloseCode.LOST_CONTINUITY) return 'reload';
  return isReconnectCloseCode(code) ? 'resume' : 'stop';
}

/**
 * The HTTP status of a refused handshake, when the WebSocket says it: `ws` errors with
 * "Unexpected server response: 401". Browsers never say (a refusal is a close 1006 before `open`).
 */
export function refusedStatus(error: unknown): number | undefined {
  const message = (error as { message?: unknown } | undefined)?.message;
  const match = typeof message === 'string' && /Unexpected server response: (\d{3})/.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** A refusal that trying again will not change: 4xx but 408 (timeout) and 429 (too many). */
export function isFinalRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** Errors of the network, before any HTTP answer: the server is down or out of reach, not refusing. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * Whether an attempt's error says the server could not be reached (`ws` passes Node's error, e.g.
 * `ECONNREFUSED` while a server restarts). Browsers never say: their failures count as refusals.
 */
export function isUnreachable(event: unknown): boolean {
  const code = (event as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' && UNREACHABLE.has(code);
}
