import type { OutgoingHttpHeaders } from 'node:http';

/** Headers of the `101` that belong to RFC 6455 and `ws`, or that describe a body it has none of. */
const RESERVED = new Set([
  'connection',
  'upgrade',
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'trailer',
  'keep-alive',
]);

/**
 * The headers the app's middleware set on the response of a handshake that succeeds (e.g. a
 * session's `Set-Cookie`), as lines for the `101`; RFC 6455's own headers are never overridden.
 */
export function upgradeHeaderLines(headers: OutgoingHttpHeaders): string[] | undefined {
  let lines: string[] | undefined;
  // `for...in` over the names: no array of entries per handshake (`getHeaders()` has no prototype)
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || RESERVED.has(name) || name.startsWith('sec-websocket-')) continue;
    if (!Array.isArray(value)) (lines ??= []).push(`${name}: ${String(value)}`);
    else for (const item of value) (lines ??= []).push(`${name}: ${String(item)}`);
  }
  return lines;
}
