import type { PerMessageDeflateOptions } from 'ws';
import type { OriginPredicate, ProtocolSelector } from './websocket-route-options.interface.js';

/** Route options after the module's defaults were applied: what the runtime reads. */
export interface ResolvedRouteOptions {
  maxPayload: number;
  closeTimeoutMs: number;
  perMessageDeflate: false | PerMessageDeflateOptions;
  allowedOrigins: OriginPredicate | undefined;
  protocols: readonly string[];
  requireProtocol: boolean;
  selectProtocol: ProtocolSelector | undefined;
  maxConnections: number;
  handshakeTimeoutMs: number;
  heartbeatMs: number;
  idleTimeoutMs: number;
  maxBackpressure: number;
  backpressure: 'close' | 'drop';
  sendAfterClose: 'throw' | 'ignore';
}
