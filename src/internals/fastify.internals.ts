/**
 * Everything of Fastify the library reads beyond its typed API, in one file: three private symbols
 * of fastify/lib/symbols.js, found by their descriptions. `fastify.Request` is the instance's
 * request class (its prototype has the `trustProxy` getters); `fastify.context` is a reply's route
 * context (its `onSend` lists the route's `onSend` hooks, `null` for none); `fastify.reply.headers`
 * is the headers set with `reply.header()`. When a Fastify release moves one, the function that
 * reads it returns undefined and its caller takes the public-API path.
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

type ReplyKeys = { context: symbol; headers: symbol } | null;
/** Learnt from the first reply: undefined until then, null when this Fastify lacks them. */
let replyKeys: ReplyKeys | undefined;

function learnReplyKeys(reply: object): ReplyKeys {
  // The route context is on the reply's prototype chain in no release; both are own fields.
  const context = symbolOf(reply, 'fastify.context');
  const headers = symbolOf(reply, 'fastify.reply.headers');
  return context === undefined || headers === undefined ? null : { context, headers };
}

/**
 * The headers of a reply whose route has no `onSend` hook (so `reply.send()` would run nothing of
 * the app before writing them), or undefined: the route has `onSend` hooks, or this Fastify keeps
 * its fields elsewhere.
 */
export function replyHeadersWithoutOnSend(reply: object): Record<string, unknown> | undefined {
  replyKeys ??= learnReplyKeys(reply);
  if (replyKeys === null) return undefined;
  const fields = reply as Record<symbol, unknown>;
  const context = fields[replyKeys.context] as { onSend?: unknown } | undefined;
  const headers = fields[replyKeys.headers];
  if (context?.onSend !== null || typeof headers !== 'object' || headers === null) return undefined;
  return headers as Record<string, unknown>;
}
