// The steps of a WebSocket handshake, as profile-summary.mjs names them: a frame of a CPU profile
// (function name, script URL) belongs to one step, or to none (then its caller's step counts).
// The same step has the same name for this library and for the peers (express-ws,
// @fastify/websocket, raw ws), so that their tables line up.

/** [step, test(functionName, url)], the first that matches wins. */
const RULES = [
  // This library, by file (dist/src/<folder>/<file>.js).
  [
    'RFC checks (ours: validator, origin, subprotocol)',
    (_, url) =>
      /\/dist\/src\/handshake\/(handshake\.validator|is-websocket-handshake|ws-parsers)/.test(url),
  ],
  [
    'per-handshake timers',
    (_, url) => /\/dist\/src\/(handshake\/slow-handshakes|util\/coarse-timeouts)/.test(url),
  ],
  ['guard and filter consumers', (_, url) => /\/dist\/src\/handshake\/handshake\.guard/.test(url)],
  [
    'ServerResponse and commit (ours: platform dispatch)',
    (_, url) => /\/dist\/src\/(platform\/|internals\/fastify)/.test(url),
  ],
  [
    'upgrade dispatch, route table, capacity (ours)',
    (_, url) =>
      /\/dist\/src\/(handshake\/(upgrade\.dispatcher|origin-first)|handshake\.messages|errors\/handshake-rejection|util\/socket|routing\/|server\/)/.test(
        url,
      ),
  ],
  [
    'handler creation and open',
    (name, url) =>
      /\/dist\/src\/(handler\/|connection\/route-connections|util\/connection-id)/.test(url) ||
      (/\/dist\/src\/connection\/connection\.lifecycle/.test(url) &&
        /accept|start|open|invoke|flushQueue|bind/i.test(name)),
  ],
  ['registry', (_, url) => /\/dist\/src\/registry\//.test(url)],
  [
    'close and teardown',
    (name, url) =>
      /\/dist\/src\/connection\/connection\.lifecycle/.test(url) && /close|release/i.test(name),
  ],
  ['other (ours)', (_, url) => /\/dist\/src\//.test(url)],
  // Nest.
  [
    'guard and filter consumers',
    (_, url) =>
      /@nestjs\/core\/(guards|exceptions|router\/router-exception-filters|helpers\/external-exception)/.test(
        url,
      ),
  ],
  [
    "Nest's router and execution context",
    (_, url) => /@nestjs\/(core|common|platform-express|platform-fastify)\//.test(url),
  ],
  // The platforms and the peers.
  [
    "Express's router and middleware",
    (_, url) =>
      /node_modules\/(express|router|body-parser|finalhandler|path-to-regexp|parseurl|qs|on-finished|type-is|content-type|encodeurl|escape-html|send|serve-static|depd|debug)\//.test(
        url,
      ),
  ],
  [
    "Fastify's router, hooks, request/reply",
    (_, url) =>
      /node_modules\/(fastify|find-my-way|@fastify\/(?!websocket)[^/]+|avvio|light-my-request|fast-querystring|process-warning|abstract-logging|pino)\//.test(
        url,
      ),
  ],
  [
    'peer glue (express-ws, @fastify/websocket)',
    (_, url) =>
      /node_modules\/(express-ws|@fastify\/websocket)\/(?!node_modules)/.test(url) &&
      !/\/ws\/lib\//.test(url),
  ],
  // ws (8 directly, 7 under express-ws).
  [
    "ws's handleUpgrade (101, WebSocket setup)",
    (_, url) => /\/ws\/lib\/websocket-server\.js/.test(url),
  ],
  [
    'close and teardown',
    (name, url) =>
      /\/ws\/lib\/(websocket|receiver|sender)\.js/.test(url) &&
      /[Cc]lose|[Ee]nd|destroy|emitClose|socketOn/.test(name),
  ],
  ["ws's connection (WebSocket, frames)", (_, url) => /\/ws\/lib\//.test(url)],
  // Node.
  ['per-handshake timers', (_, url) => /^node:internal\/timers|^node:timers/.test(url)],
  ['ServerResponse and commit (Node)', (_, url) => url.startsWith('node:_http_outgoing')],
  [
    "Node's HTTP parser and IncomingMessage",
    (_, url) => /^node:_http_(server|common|incoming)/.test(url),
  ],
  [
    'sockets: accept, read, write, close (net, streams)',
    (_, url) => /^node:(net|internal\/streams|internal\/stream_base_commons|stream)/.test(url),
  ],
  ['garbage collection', (name) => name === '(garbage collector)'],
  [
    'bench harness (IPC, CPU readings)',
    (_, url) => /\/test\/bench\/|^node:internal\/child_process/.test(url),
  ],
];

/** The step a profile frame belongs to, or undefined (its caller's step then). */
export function stepOf(functionName, url) {
  for (const [step, test] of RULES) if (test(functionName, url ?? '')) return step;
  return undefined;
}
