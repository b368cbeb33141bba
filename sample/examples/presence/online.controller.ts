import { Controller, Get, Query, ServiceUnavailableException } from '@nestjs/common';
import { WebSocketRegistry, WebSocketRoute, type PresenceMember } from '../../../src/index.js';
import { OnlineHandler } from './online.handler.js';

@Controller()
export class OnlineController {
  constructor(private readonly registry: WebSocketRegistry) {}

  /** `ws://host/online?name=Ada&topic=lobby`: be listed, and hear who comes and goes. */
  @WebSocketRoute('/online', OnlineHandler)
  online() {}

  /** `GET /members?topic=lobby`: who is online, on every instance; 503 while Redis is away. */
  @Get('members')
  async members(@Query('topic') topic = 'lobby'): Promise<PresenceMember[]> {
    try {
      return await this.registry.presence(topic);
    } catch (error) {
      throw new ServiceUnavailableException((error as Error).message);
    }
  }
}
