import { Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { HandshakeRejection } from '../errors/handshake-rejection.js';
import type { ResolvedRouteOptions } from '../interfaces/resolved-route-options.interface.js';
import {
  badKeyRejection,
  connectionNotUpgradeRejection,
  foreignOriginReason,
  internalErrorRejection,
  malformedExtensionsRejection,
  malformedProtocolsRejection,
  missingHostRejection,
  noProtocolRejection,
  notGetRejection,
  oldHttpRejection,
  originNotAllowedReason,
  originRefusedRejection,
  repeatedHostRejection,
  unsupportedVersionRejection,
  upgradeNotWebSocketRejection,
} from '../handshake.messages.js';
import { originCheckFailedMessage } from '../ws.messages.js';
import { parseExtensions, parseProtocols } from './ws-parsers.js';

const logger = new Logger('WebSocketRoute');

const KEY_PATTERN = /^[+/0-9A-Za-z]{21}[AQgw]==$/;

/** Whether a comma-separated header lists `token` (case-insensitive), as RFC 7230 lists do. */
export function hasToken(header: string | undefined, token: string): boolean {
  if (!header) return false;
  // the usual case, a header of that one token (`Connection: Upgrade`), without splitting
  if (header.length === token.length) return header.toLowerCase() === token;
  for (const part of header.split(',')) if (part.trim().toLowerCase() === token) return true;
  return false;
}

/** Node's `headers` view of a repeated header: its values joined with ", " (RFC 9110 5.3). */
function joined(previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous}, ${value}`;
}

function isName(name: string, lowerCaseName: string): boolean {
  return name === lowerCaseName || name.toLowerCase() === lowerCaseName;
}

/**
 * RFC 6455 section 4.2.1 and 4.2.2, stricter than `ws`: returns why the upgrade request is not a
 * valid opening handshake, or undefined when it is.
 *
 * It reads `rawHeaders` in one pass, as Node's `headers` would give them (the first `Host`, other
 * repeated headers joined), rather than `headers` itself: Node builds that object on first read,
 * and V8 would compile the building into this function as well as into the code (`ws`, the
 * platform) that reads `headers` next.
 */
export function validateUpgradeRequest(request: IncomingMessage): HandshakeRejection | undefined {
  if (request.method !== 'GET') {
    return notGetRejection();
  }
  if (
    request.httpVersionMajor < 1 ||
    (request.httpVersionMajor === 1 && request.httpVersionMinor < 1)
  ) {
    return oldHttpRejection();
  }
  const raw = request.rawHeaders;
  let hosts = 0;
  let host: string | undefined;
  let upgrade: string | undefined;
  let connection: string | undefined;
  let version: string | undefined;
  let key: string | undefined;
  let extensions: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    // names and values alternate; the length picks the one name worth comparing
    switch (name.length) {
      case 4:
        if (isName(name, 'host') && hosts++ === 0) host = value;
        break;
      case 7:
        if (isName(name, 'upgrade')) upgrade = joined(upgrade, value);
        break;
      case 10:
        if (isName(name, 'connection')) connection = joined(connection, value);
        break;
      case 17:
        if (isName(name, 'sec-websocket-key')) key = joined(key, value);
        break;
      case 21:
        if (isName(name, 'sec-websocket-version')) version = joined(version, value);
        break;
      case 24:
        if (isName(name, 'sec-websocket-extensions')) extensions = joined(extensions, value);
        break;
    }
  }
  if (!host) return missingHostRejection();
  // Node keeps the first of several Host headers; RFC 7230 5.4 asks for a 400.
  if (hosts > 1) {
    return repeatedHostRejection();
  }
  // One token, as `ws` requires too: a list such as "h2c, websocket" is refused here, with a reason.
  if (upgrade?.trim().toLowerCase() !== 'websocket') {
    return upgradeNotWebSocketRejection();
  }
  if (!hasToken(connection, 'upgrade')) {
    return connectionNotUpgradeRejection();
  }
  if (version !== '13') {
    return unsupportedVersionRejection();
  }
  if (key === undefined || !KEY_PATTERN.test(key)) {
    return badKeyRejection();
  }
  if (extensions !== undefined) {
    try {
      parseExtensions(extensions);
    } catch {
      return malformedExtensionsRejection();
    }
  }
  return undefined;
}

/**
 * The route's origin rule; undefined when the origin may connect. By default (no `allowedOrigins`)
 * a browser's `Origin` must name the request's own host (`hostnameOf()`: as the platform sees it,
 * proxies trusted as the app says), any port, as Phoenix's `check_origin` compares hosts: cookies
 * do not separate ports, and a dev server on another port keeps working. No `Origin` passes.
 * The host name is only worked out when there is an `Origin` to compare it with.
 */
export function checkOrigin(
  request: IncomingMessage,
  options: ResolvedRouteOptions,
  hostnameOfRequest: () => string | undefined = () => hostnameOf(request.headers.host),
): HandshakeRejection | undefined {
  const origin = request.headers.origin;
  const allowed = options.allowedOrigins;
  if (allowed !== undefined) {
    let allows: boolean;
    try {
      allows = allowed(origin, request);
    } catch (error) {
      // It runs in the server's `upgrade` event, before the app: a throw must not escape there.
      logger.error(
        originCheckFailedMessage(origin),
        error instanceof Error ? error.stack : String(error),
      );
      return internalErrorRejection();
    }
    if (allows) return undefined;
    return originRefusedRejection(originNotAllowedReason(origin));
  }
  if (origin === undefined) return undefined;
  const hostname = hostnameOfRequest();
  if (sameHost(origin, hostname)) return undefined;
  return originRefusedRejection(foreignOriginReason(origin, hostname));
}

function sameHost(origin: string, hostname: string | undefined): boolean {
  if (!hostname) return false;
  let originHost: string;
  try {
    originHost = stripBrackets(new URL(origin).hostname);
  } catch {
    return false; // "null" (sandboxed frames, file:) and malformed origins name no host
  }
  return originHost.toLowerCase() === stripBrackets(hostname).toLowerCase();
}

/** `Host` header -> host name: `example.com:8080` -> `example.com`, `[::1]:80` -> `::1`. */
export function hostnameOf(host: string | undefined): string | undefined {
  if (!host) return undefined;
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

// URL's hostname keeps IPv6 brackets; Express and Fastify give it with or without.
function stripBrackets(host: string): string {
  return host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host;
}

/**
 * Chooses the subprotocol: the first of the client's offers the route speaks (one, as the RFC
 * says), or the route's `selectProtocol`. Returns '' for none, or a rejection.
 */
export function negotiateProtocol(
  request: IncomingMessage,
  options: ResolvedRouteOptions,
): string | HandshakeRejection {
  const header = request.headers['sec-websocket-protocol'];
  let offered: string[] = [];
  if (header !== undefined) {
    try {
      offered = parseProtocols(header);
    } catch {
      return malformedProtocolsRejection();
    }
  }
  let chosen: string | false = false;
  if (options.selectProtocol) {
    chosen = options.selectProtocol(offered, request);
    if (chosen !== false && !offered.includes(chosen)) chosen = false;
  } else if (options.protocols.length > 0) {
    chosen = offered.find((protocol) => options.protocols.includes(protocol)) ?? false;
  }
  if (chosen === false) {
    if (options.requireProtocol) {
      return noProtocolRejection(options.protocols);
    }
    return '';
  }
  return chosen;
}

/** RFC 7230 5.3.2: servers MUST accept the absolute form (`GET http://host/path`); routers match paths. */
export function toOriginForm(request: IncomingMessage): void {
  const url = request.url ?? '/';
  if (url.startsWith('/')) return;
  const authority = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
  if (!authority) return;
  const rest = url.slice(authority[0].length);
  request.url = rest.startsWith('/') ? rest : '/' + rest;
}
