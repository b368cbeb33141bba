import { Controller } from '@nestjs/common';
import { EchoHandler, WebSocketRoute } from '../../../src/index.js';
import { OnlineHandler } from './online.handler.js';

/** Declared as on the HTTP server; served from the module's own port. */
@Controller()
export class StandaloneController {
  @WebSocketRoute('/echo', EchoHandler)
  echo() {}

  @WebSocketRoute('/online', OnlineHandler)
  online() {}
}
