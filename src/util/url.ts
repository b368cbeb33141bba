import type { AddressInfo } from 'node:net';

/** The query of a request target (without `?`), or '' when it has none. */
export function queryOf(url: string | undefined): string {
  const at = url?.indexOf('?') ?? -1;
  return at === -1 ? '' : url!.slice(at + 1);
}

/**
 * The `ws://` (or `wss://`) URL of `path` on a server bound to `address`: an unspecified address
 * (`0.0.0.0`, `::`) becomes `localhost`, an IPv6 address is bracketed, and `path` gets a leading
 * slash when it lacks one.
 */
export function webSocketUrl(address: AddressInfo, secure: boolean, path: string): string {
  const host =
    address.address === '0.0.0.0' || address.address === '::'
      ? 'localhost'
      : address.family === 'IPv6'
        ? `[${address.address}]`
        : address.address;
  const slash = path.startsWith('/') ? '' : '/';
  return `${secure ? 'wss' : 'ws'}://${host}:${address.port}${slash}${path}`;
}
