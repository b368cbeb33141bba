import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthenticatedRequest } from './token-auth.guard.js';

const ROLES = 'roles';

/** `@Roles('admin')`: only users with one of these roles (checked by `RolesGuard`). */
export const Roles = (...roles: string[]) => SetMetadata(ROLES, roles);

/** Reads `@Roles()` with Nest's Reflector, as on any HTTP route; `false` answers `403`. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!roles) return true;
    const { user } = context.switchToHttp().getRequest<AuthenticatedRequest>();
    return roles.some((role) => user?.roles.includes(role));
  }
}
