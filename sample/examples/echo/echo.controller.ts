import { Controller } from '@nestjs/common';
import { EchoHandler, WebSocketRoute } from '../../../src/index.js';
import { UpperCaseEchoHandler } from './upper-case-echo.handler.js';

@Controller('echo')
export class EchoController {
  /** `/echo`: the library's EchoHandler sends every message back unchanged. */
  @WebSocketRoute('/', EchoHandler)
  echo() {}

  /** `/echo/upper`: a hand-written handler. */
  @WebSocketRoute('/upper', UpperCaseEchoHandler)
  upper() {}
}
