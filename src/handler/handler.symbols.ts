/**
 * Internal per-connection state lives on the handler under these symbols: no extra object per
 * connection, and no name a subclass could collide with. Not exported from the package.
 */
export const kSocket = Symbol('socket');
/** The connection's id, made on first read of `handler.id`. */
export const kId = Symbol('id');
/** The connection's `HandlerContext` (shared by the route's connections). */
export const kContext = Symbol('context');
export const kQueue = Symbol('queue');
export const kAlive = Symbol('alive');
export const kIdleTicks = Symbol('idleTicks');
export const kStreams = Symbol('streams');
export const kTopics = Symbol('topics');
export const kDrain = Symbol('drain');
export const kDrainPending = Symbol('drainPending');
export const kClosed = Symbol('closed');
export const kForward = Symbol('forward');
/** The close this server started (the first Close frame it sent, or a drop), whatever the peer answered. */
export const kCloseSent = Symbol('closeSent');
