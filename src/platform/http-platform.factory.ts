import type { AbstractHttpAdapter } from '@nestjs/core';
import { expressPlatform } from './express.platform.js';
import { fastifyPlatform } from './fastify.platform.js';
import type { HttpPlatform } from './http-platform.interface.js';

/** The platform of Nest's HTTP adapter; undefined for an adapter this library does not know. */
export function httpPlatformOf(adapter: AbstractHttpAdapter | undefined): HttpPlatform | undefined {
  switch (adapter?.getType()) {
    case 'express':
      return expressPlatform;
    case 'fastify':
      return fastifyPlatform;
    default:
      return undefined;
  }
}
