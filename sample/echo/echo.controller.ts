import { Controller } from '@nestjs/common';
import { EchoHandler, WebSocketRoute } from '../../src/index.js';

/** `/echo`: every message comes back unchanged (ws4py's echo server). */
@Controller('echo')
export class EchoController {
  @WebSocketRoute('/', EchoHandler)
  echo() {}
}
