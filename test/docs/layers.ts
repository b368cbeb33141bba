/**
 * The layers of `src/`, as data: the layer test (`import-cycles.spec.ts`) holds every import to
 * it, and `docs/architecture.md` shows it (the test checks the page's table is this one).
 *
 * A unit is a folder of `src/` or a file at its top. A unit imports units of lower layers, and
 * within its own layer only those it lists in `within` (that order must stay acyclic). Entries
 * (`entry: true`) are packages of their own: no other unit imports them.
 */
export interface LayerUnit {
  /** A folder of `src/` (`'broker/'`) or a file at its top (`'ws.host.ts'`). */
  unit: string;
  layer: number;
  /** Units of the same layer it may import. */
  within?: readonly string[];
  /** A package entry of its own (`nestjs-ws-routes/client`, ...): imported by no other unit. */
  entry?: boolean;
  /** What it holds, for the table in docs/architecture.md. */
  holds: string;
}

export const LAYERS: readonly LayerUnit[] = [
  {
    unit: 'testing/',
    layer: 7,
    entry: true,
    holds: '`nestjs-ws-routes/testing`: may import any public piece of the library',
  },
  {
    unit: 'index.ts',
    layer: 6,
    within: ['serve-websockets.ts', 'ws.module.ts', 'server/'],
    holds: 'the public API',
  },
  {
    unit: 'serve-websockets.ts',
    layer: 6,
    within: ['ws.module.ts', 'server/'],
    holds: '`serveWebSockets()`: a Nest context around `WsModule`',
  },
  {
    unit: 'ws.module.ts',
    layer: 6,
    within: ['ws.host.ts', 'server/'],
    holds: '`WsModule`',
  },
  {
    unit: 'ws.host.ts',
    layer: 6,
    within: ['server/'],
    holds: 'wires the layers below at bootstrap, shutdown',
  },
  {
    unit: 'server/',
    layer: 6,
    holds: '`WsServer`, the standalone server, Node `http` internals',
  },
  { unit: 'connection/', layer: 5, holds: 'the 101, open, lifecycle, heartbeat' },
  {
    unit: 'handshake/',
    layer: 4,
    within: ['platform/'],
    holds:
      'the upgrade listener: RFC 6455 checks, origin, guards, capacity; ends in one accept callback',
  },
  {
    unit: 'platform/',
    layer: 4,
    holds: 'dispatch of the upgrade as a `GET` on Express or Fastify',
  },
  { unit: 'routing/', layer: 3, holds: 'explorer, `Route`, route table, paths' },
  {
    unit: 'registry/',
    layer: 2,
    within: ['broker/', 'history/', 'presence/'],
    holds: '`WebSocketRegistry`, topic subscriptions, fan-out, traffic counters',
  },
  {
    unit: 'broker/',
    layer: 2,
    within: ['history/', 'redis/'],
    holds: 'in-process and Redis brokers (the Redis streams client starts epochs as history does)',
  },
  {
    unit: 'presence/',
    layer: 2,
    within: ['redis/'],
    holds: 'presence tracker, in-process and Redis stores',
  },
  { unit: 'history/', layer: 2, holds: 'positions, in-process streams, sequencing, recovery' },
  { unit: 'redis/', layer: 2, holds: 'ioredis loading, targets, outage bookkeeping, hash tags' },
  {
    unit: 'decorators/',
    layer: 1,
    within: ['handler/'],
    holds: '`@WebSocketRoute()`: metadata naming a handler class, read by routing/',
  },
  { unit: 'handler/', layer: 1, holds: '`WebSocketHandler`, `EchoHandler`, handler factory' },
  {
    unit: 'client/',
    layer: 1,
    entry: true,
    holds: '`nestjs-ws-routes/client`: imports leaves only',
  },
  {
    unit: 'schematics/',
    layer: 1,
    entry: true,
    holds: 'Nest CLI schematics',
  },
  {
    unit: 'interfaces/',
    layer: 0,
    holds: 'every pure type, broker and presence contracts included',
  },
  {
    unit: 'internals/',
    layer: 0,
    holds: "`ws`'s private fields, Fastify's private symbols and Nest's deep imports",
  },
  { unit: 'util/', layer: 0, holds: 'async helpers, URLs, shared timeouts, connection ids' },
  { unit: 'errors/', layer: 0, holds: 'public error classes' },
  { unit: 'close-codes.ts', layer: 0, holds: 'the close-code table, shared with the client' },
  { unit: 'ws.constants.ts', layer: 0, holds: 'metadata keys, request symbols, defaults' },
  { unit: 'ws.messages.ts', layer: 0, holds: 'texts of the module' },
  {
    unit: 'handshake.messages.ts',
    layer: 0,
    within: ['errors/'],
    holds: 'every answer to a refused handshake: status, reason, `Retry-After`',
  },
  {
    unit: 'resume.wire.ts',
    layer: 0,
    within: ['interfaces/'],
    holds: 'the resume wire convention, shared with the client',
  },
  {
    unit: 'ws.module-definition.ts',
    layer: 0,
    within: ['interfaces/'],
    holds: 'the options token (`ConfigurableModuleBuilder`), which registry/ injects',
  },
];

/** The unit of a file of `src/` (`'broker/redis.broker.ts'` -> `'broker/'`). */
export function unitOf(file: string): string {
  const slash = file.indexOf('/');
  return slash === -1 ? file : file.slice(0, slash + 1);
}

/** Whether a file of unit `from` may import one of unit `to`. */
export function mayImport(from: string, to: string): boolean {
  if (from === to) return true;
  const source = LAYERS.find((layer) => layer.unit === from);
  const target = LAYERS.find((layer) => layer.unit === to);
  if (source === undefined || target === undefined || target.entry) return false;
  return target.layer < source.layer || (source.within?.includes(to) ?? false);
}

/** The table as docs/architecture.md shows it (a Markdown table). */
export function layersMarkdown(): string {
  const rows = LAYERS.map(({ unit, layer, within, entry, holds }) => {
    const also = within?.map((name) => `\`${name}\``).join(', ') ?? '';
    return `| ${layer} | \`${unit}\`${entry ? ' (entry)' : ''} | ${also} | ${holds} |`;
  });
  return [
    '| layer | unit | also imports, same layer | holds |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
