import { Controller, Get } from '@nestjs/common';
import { EchoHandler, WebSocketRegistry, WebSocketRoute } from '../../../src/index.js';

/** An HTTP route and a WebSocket route side by side, on Fastify's server. */
@Controller()
export class StatusController {
  constructor(private readonly registry: WebSocketRegistry) {}

  /** `GET /status`: plain HTTP, served by Fastify. */
  @Get('status')
  status() {
    return { adapter: 'fastify', connections: this.registry.size };
  }

  /** `/echo`: upgraded from the same Fastify server and port. */
  @WebSocketRoute('/echo', EchoHandler)
  echo() {}
}
