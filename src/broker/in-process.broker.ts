import type {
  BrokerMessage,
  BrokerStats,
  WebSocketBroker,
} from '../interfaces/websocket-broker.interface.js';

/**
 * The default broker: one instance, nothing to reach. `publish` and `broadcast` serve this
 * instance's sockets only.
 */
export class InProcessBroker implements WebSocketBroker {
  async start(_deliver: (message: BrokerMessage) => void): Promise<void> {}

  publish(_message: BrokerMessage): void {}

  stats(): BrokerStats {
    return { name: 'in-process', connected: true, published: 0, received: 0, undelivered: 0 };
  }

  async stop(): Promise<void> {}
}
