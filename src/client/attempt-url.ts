import type { StreamPosition } from '../interfaces/position.interface.js';
import { SINCE_PARAM, formatSince } from '../resume.wire.js';

/** The server's URL, or a function that gives it for each attempt (e.g. with a fresh token). */
export type UrlSource = string | URL | (() => string | URL | Promise<string | URL>);

/** How the positions go into an attempt's URL (the `encodeSince` option). */
export type SinceEncoder = (url: URL, positions: ReadonlyMap<string, StreamPosition>) => void;

/**
 * The URL of one attempt: the app's (its function called again for each attempt), made absolute
 * against `base` (the page's address in a browser), `http(s):` turned into `ws(s):`, with the
 * positions the client has.
 */
export async function attemptUrl(
  source: UrlSource,
  positions: ReadonlyMap<string, StreamPosition>,
  encode: SinceEncoder = appendSince,
  base?: string,
): Promise<string> {
  const url = new URL(typeof source === 'function' ? await source() : source, base);
  url.protocol = url.protocol.replace(/^http/, 'ws');
  encode(url, positions);
  return url.href;
}

/**
 * The longest URL (characters) the default encoding writes positions into: under nginx's 8 KB
 * request line and Node's 16 KB of headers, which answer longer ones 414 or 431.
 */
export const MAX_SINCE_URL_LENGTH = 8000;

/**
 * The default: one `since=<offset>:<epoch>:<topic>` query parameter per topic, in the map's
 * order, as many as keep the URL within `MAX_SINCE_URL_LENGTH`; the rest are left out.
 */
export function appendSince(url: URL, positions: ReadonlyMap<string, StreamPosition>): void {
  const query = new URLSearchParams(url.search);
  let length = url.href.length + (query.size === 0 ? 1 : 0); // the `?`
  for (const [topic, position] of positions) {
    const param = new URLSearchParams([[SINCE_PARAM, formatSince(topic, position)]]).toString();
    length += param.length + (query.size === 0 ? 0 : 1); // the `&`
    if (length > MAX_SINCE_URL_LENGTH) break;
    query.append(SINCE_PARAM, formatSince(topic, position));
  }
  url.search = query.toString();
}
