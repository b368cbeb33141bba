/**
 * A handshake the platform (Express, Fastify) is dispatching: its middleware, hooks, router and the
 * route's guards run; when they let it through, Nest calls the WebSocket route's handler, which
 * hands the platform's request and response back here to finish the upgrade.
 */
export interface PendingHandshake {
  /**
   * Finishes the upgrade for the route `controller[methodName]`, or throws the `HttpException` to
   * answer (rendered by the app's exception filters). `request`/`response` are the platform's.
   */
  upgrade(
    controller: object,
    methodName: string | symbol,
    request: unknown,
    response: unknown,
  ): void;
}
