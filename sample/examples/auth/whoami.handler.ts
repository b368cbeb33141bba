import { Injectable } from '@nestjs/common';
import { WebSocketHandler } from '../../../src/index.js';
import type { User } from './users.service.js';

/** Greets the user the guard authenticated: guards hand data to handlers on the request. */
@Injectable()
export class WhoAmIHandler extends WebSocketHandler {
  override onOpen(): void {
    const user = this.request.user as User;
    this.send(JSON.stringify({ path: this.path, user }));
  }
}
