/**
 * Everything of Fastify the library reads beyond its typed API, in one file: three private symbols
 * of fastify/lib/symbols.js, found by their descriptions. `fastify.Request` is the instance's
 * request class (its prototype has the `trustProxy` getters); `fastify.context` is the route
 * context, an own field of the request (its `onSend` lists the route's `onSend` hooks, `null` for
 * none); `fastify.reply.headers` holds the headers set with `reply.header()`. When a Fastify
 * release moves one, the function that reads it returns undefined and its caller takes the
 * public-API path; test/e2e/fastify-internals.e2e.spec.ts checks them on the installed Fastify.
 */

function symbolOf(object: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(object).find((symbol) => symbol.description === description);
}

/** The prototype of the Fastify instance's request class, or undefined. */
export function fastifyRequestPrototype(instance: unknown): object | undefined {
  if (typeof instance !== 'object' || instance === null) return undefined;
  const key = symbolOf(instance, 'fastify.Request');
  const requestClass = key === undefined ? undefined : (instance as Record<symbol, unknown>)[key];
  if (typeof requestClass !== 'function') return undefined;
  const prototype = (requestClass as { prototype?: unknown }).prototype;
  return typeof prototype === 'object' && prototype !== null ? prototype : undefined;
}

type ReplyKeys = { context: symbol; headers: symbol };
let replyKeysLearnt = false;
/** Learnt from the first reply; undefined when this Fastify lacks them. */
let replyKeys: ReplyKeys | undefined;

/** `fastify.context` is an own field of the request (the reply reads it through a getter). */
function learnReplyKeys(reply: { request?: unknown }): ReplyKeys | undefined {
  const request = reply.request;
  if (typeof request !== 'object' || request === null) return undefined;
  const context = symbolOf(request, 'fastify.context');
  const headers = symbolOf(reply, 'fastify.reply.headers');
  return context === undefined || headers === undefined ? undefined : { context, headers };
}

/**
 * The headers of a reply whose route has no `onSend` hook (so `reply.send()` would run nothing of
 * the app before writing them), or undefined: the route has `onSend` hooks, or this Fastify keeps
 * its fields elsewhere.
 */
export function replyHeadersWithoutOnSend(reply: {
  request?: unknown;
}): Record<string, unknown> | undefined {
  if (!replyKeysLearnt) {
    replyKeysLearnt = true;
    replyKeys = learnReplyKeys(reply);
  }
  if (replyKeys === undefined) return undefined;
  const context = (reply.request as Record<symbol, { onSend?: unknown } | undefined>)[
    replyKeys.context
  ];
  const headers = (reply as Record<symbol, unknown>)[replyKeys.headers];
  if (context?.onSend !== null || typeof headers !== 'object' || headers === null) return undefined;
  return headers as Record<string, unknown>;
}
