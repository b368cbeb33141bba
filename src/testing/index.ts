/**
 * `nestjs-ws-routes/testing`: connect real WebSocket clients to a Nest app in tests.
 *
 * @packageDocumentation
 * @module nestjs-ws-routes/testing
 */
export { connectWebSocket, type ConnectWebSocketOptions } from './connect-websocket.js';
export {
  WebSocketTestClient,
  type WebSocketCloseInfo,
  type WebSocketRejection,
  type WaitOptions,
} from './websocket-test-client.js';
export type { MessageExpectation, WebSocketTestMessage } from './message-expectation.js';
