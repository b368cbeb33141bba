import { Injectable } from '@nestjs/common';

export interface User {
  name: string;
  roles: string[];
}

/** Stands in for your user store: two API tokens and their users. */
@Injectable()
export class UsersService {
  private readonly byToken = new Map<string, User>([
    ['ada-token', { name: 'Ada', roles: ['admin'] }],
    ['bob-token', { name: 'Bob', roles: [] }],
  ]);

  findByToken(token: string): User | undefined {
    return this.byToken.get(token);
  }
}
