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

/** The default: one `since=<offset>:<epoch>:<topic>` query parameter per topic. */
export function appendSince(url: URL, positions: ReadonlyMap<string, StreamPosition>): void {
  for (const [topic, position] of positions) {
    url.searchParams.append(SINCE_PARAM, formatSince(topic, position));
  }
}
