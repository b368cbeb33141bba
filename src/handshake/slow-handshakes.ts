import type { Server } from 'node:http';

/**
 * A handshake whose headers trickle in (slowloris) never reaches the `upgrade` event: Node's
 * `headersTimeout` (60 s, checked every `connectionsCheckingInterval`, 30 s) answers it `408`.
 * A module-level `handshakeTimeoutMs` lowers both (never raises them) so that bound is the option.
 * The interval is read when the server starts listening, which is after this module's init.
 */
export function boundSlowHandshakes(server: Server, handshakeTimeoutMs: number | undefined): void {
  if (handshakeTimeoutMs === undefined || handshakeTimeoutMs <= 0) return;
  if (server.headersTimeout === 0 || server.headersTimeout > handshakeTimeoutMs)
    server.headersTimeout = handshakeTimeoutMs;
  const checking = server as Server & { connectionsCheckingInterval?: number };
  const interval = Math.max(100, Math.floor(handshakeTimeoutMs / 4));
  if (!server.listening && (checking.connectionsCheckingInterval ?? 30_000) > interval)
    checking.connectionsCheckingInterval = interval;
}
