import { Controller, UseGuards } from '@nestjs/common';
import { EchoHandler, WebSocketRoute } from '../../src/index.js';
import { BearerTokenGuard } from './bearer-token.guard.js';

/** `/secure/echo`: the echo, behind a bearer-token guard that runs at the handshake. */
@Controller('secure')
@UseGuards(BearerTokenGuard)
export class SecureEchoController {
  @WebSocketRoute('/echo', EchoHandler)
  echo() {}
}
