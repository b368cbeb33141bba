import { Controller } from '@nestjs/common';
import { WebSocketRoute } from '../../../src/index.js';
import { NewsHandler } from './news.handler.js';

@Controller()
export class NewsController {
  @WebSocketRoute('/news', NewsHandler)
  news() {}
}
