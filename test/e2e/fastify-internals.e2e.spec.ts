import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fastifyRequestPrototype,
  replyHeadersWithoutOnSend,
} from '../../src/internals/fastify.internals.js';

/**
 * The installed Fastify still keeps the private fields the library reads where
 * `internals/fastify.internals.ts` looks for them: a release that moves one fails here, not only
 * by a slower handshake (the readers fall back to the public-API path).
 */
describe('Fastify internals on the installed Fastify', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('the request class has the hostname getter', () => {
    app = Fastify();
    const prototype = fastifyRequestPrototype(app);
    expect(prototype && 'hostname' in prototype).toBe(true);
  });

  it("a route without onSend hooks gives the reply's own headers; one with an onSend hook gives none", async () => {
    app = Fastify();
    const seen: Record<string, unknown> = {};
    app.get('/bare', (_request, reply) => {
      reply.header('x-set', 'yes');
      const headers = replyHeadersWithoutOnSend(reply);
      // a copy: Fastify goes on to add its content headers to the same object
      seen.bare = headers && { ...headers };
      return 'ok';
    });
    app.register(async (scoped) => {
      scoped.addHook('onSend', async (_request, _reply, payload) => payload);
      scoped.get('/hooked', (_request, reply) => {
        seen.hooked = replyHeadersWithoutOnSend(reply);
        return 'ok';
      });
    });
    await app.inject('/bare');
    await app.inject('/hooked');
    expect(seen.bare).toEqual({ 'x-set': 'yes' });
    expect(seen.hooked).toBeUndefined();
  });
});
