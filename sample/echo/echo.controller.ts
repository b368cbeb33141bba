import { Controller } from '@nestjs/common';
import { EchoHandler, WebSocketRoute } from '../../src/index.js';

/** `/echo` and `/echo/deflate`: every message comes back unchanged (ws4py's echo server). */
@Controller('echo')
export class EchoController {
  @WebSocketRoute('/', EchoHandler)
  echo() {}

  /** The same, with permessage-deflate offered (messages under 1 KiB still go out uncompressed). */
  @WebSocketRoute('/deflate', EchoHandler, { perMessageDeflate: true })
  deflate() {}
}
