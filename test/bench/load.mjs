// Load generator: raw `net` sockets speaking just enough RFC 6455 to drive an echo server, so that
// the client costs less than the server it measures. Frames it sends are built and masked once;
// frames it receives are parsed minimally (header and length, the payload is skipped, never copied).
// Driven by run.mjs over IPC (see ipc.mjs): every command answers when done.
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { announceReady, answerRequests, monotonicNs } from './ipc.mjs';

const HOST = '127.0.0.1';
const MASK = [0x37, 0xfa, 0x21, 0x3d];
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const HEADER_END = Buffer.from('\r\n\r\n');

/** A masked client frame (RFC 6455 5.2). */
export function maskedFrame(opcode, payload) {
  const length = payload.length;
  const extra = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const frame = Buffer.alloc(2 + extra + 4 + length);
  frame[0] = 0x80 | opcode;
  if (extra === 0) frame[1] = 0x80 | length;
  else if (extra === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const maskAt = 2 + extra;
  for (let i = 0; i < 4; i++) frame[maskAt + i] = MASK[i];
  for (let i = 0; i < length; i++) frame[maskAt + 4 + i] = payload[i] ^ MASK[i & 3];
  return frame;
}

/** Text payload of exactly `size` bytes that is also a @SubscribeMessage('echo') envelope. */
export function echoPayload(size) {
  const envelope = '{"event":"echo","data":""}';
  if (size < envelope.length) throw new Error(`payload size must be >= ${envelope.length}`);
  const text = `{"event":"echo","data":"${'x'.repeat(size - envelope.length)}"}`;
  return Buffer.from(text);
}

const CLOSE_FRAME = maskedFrame(OPCODE_CLOSE, Buffer.from([0x03, 0xe8]));
const PONG_FRAME = maskedFrame(0xa, Buffer.alloc(0));

/** One client connection: the handshake, then a minimal frame parser calling `onMessage(conn)`. */
class Connection {
  constructor(socket) {
    this.socket = socket;
    this.upgraded = false;
    this.response = null;
    this.header = Buffer.alloc(14);
    this.headerLength = 0;
    this.skip = 0;
    this.opcode = 0;
    this.sentAt = 0;
    this.onMessage = null;
  }

  /** Feeds received bytes; returns false if the handshake was refused. */
  receive(chunk) {
    if (!this.upgraded) {
      this.response = this.response ? Buffer.concat([this.response, chunk]) : chunk;
      const end = this.response.indexOf(HEADER_END);
      if (end === -1) return true;
      if (this.response.toString('latin1', 0, 12) !== 'HTTP/1.1 101') return false;
      this.upgraded = true;
      const rest = this.response.subarray(end + 4);
      this.response = null;
      if (rest.length > 0) this.frames(rest);
      return true;
    }
    this.frames(chunk);
    return true;
  }

  frames(chunk) {
    let at = 0;
    const length = chunk.length;
    while (at < length) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, length - at);
        at += take;
        this.skip -= take;
        if (this.skip === 0) this.complete();
        continue;
      }
      this.header[this.headerLength++] = chunk[at++];
      if (this.headerLength < 2) continue;
      const length7 = this.header[1] & 0x7f;
      const needed = length7 === 126 ? 4 : length7 === 127 ? 10 : 2;
      if (this.headerLength < needed) continue;
      this.opcode = this.header[0] & 0x0f;
      this.skip =
        length7 === 126
          ? this.header.readUInt16BE(2)
          : length7 === 127
            ? Number(this.header.readBigUInt64BE(2))
            : length7;
      this.headerLength = 0;
      if (this.skip === 0) this.complete();
    }
  }

  complete() {
    const opcode = this.opcode;
    if (opcode === OPCODE_TEXT || opcode === OPCODE_BINARY) this.onMessage?.(this);
    else if (opcode === OPCODE_PING) this.socket.write(PONG_FRAME);
    else if (opcode === OPCODE_CLOSE) this.socket.end();
  }
}

function upgradeRequest(port, path) {
  return Buffer.from(
    `GET ${path} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\n` +
      'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
      'Sec-WebSocket-Version: 13\r\n\r\n',
  );
}

/** Opens one connection; resolves once upgraded. `onClosed` runs when it closes later. */
function open(port, request) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port, noDelay: true });
    const connection = new Connection(socket);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      const wasUpgraded = connection.upgraded;
      if (!connection.receive(chunk)) {
        socket.destroy();
        reject(new Error(`handshake refused: ${chunk.toString('latin1').split('\r\n')[0]}`));
      } else if (!wasUpgraded && connection.upgraded) resolve(connection);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      connection.closed = true;
      reject(new Error('closed before the upgrade'));
    });
  });
}

/** Opens `count` connections, at most `parallel` handshakes in flight. */
async function openMany(port, path, count, parallel = 200) {
  const request = upgradeRequest(port, path);
  const connections = [];
  let next = 0;
  async function worker() {
    while (next < count) {
      next++;
      connections.push(await open(port, request));
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return connections;
}

let connections = [];
let stopping = false;

function closeAll() {
  stopping = true;
  for (const connection of connections) connection.socket.destroy();
  connections = [];
}

// Echo: every connection keeps exactly one message in flight (closed loop).
const rtt = { samples: new Float64Array(4_000_000), count: 0 };
let echoed = 0;

function onEcho(connection) {
  const now = performance.now();
  echoed++;
  if (rtt.count < rtt.samples.length) rtt.samples[rtt.count++] = now - connection.sentAt;
  if (stopping) return;
  connection.sentAt = now;
  connection.socket.write(connection.frame);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// Fan-out: counts one message per connection, notes when the last one arrived.
let fanOut = null;

function onFanOut() {
  if (!fanOut) return;
  if (++fanOut.received === fanOut.expected) fanOut.done(monotonicNs());
}

answerRequests({
  /** Opens `connections` idle connections to `port`/`path`. */
  open: async ({ port, path, connections: count }) => {
    stopping = false;
    connections = await openMany(port, path, count);
    for (const connection of connections) connection.onMessage = onFanOut;
    return { open: connections.length };
  },

  /** Starts the closed echo loop on `connections` connections with a `size`-byte text (or binary) message. */
  echo: async ({ port, path, connections: count, size, binary = false }) => {
    stopping = false;
    connections = await openMany(port, path, count);
    const frame = maskedFrame(binary ? OPCODE_BINARY : OPCODE_TEXT, echoPayload(size));
    for (const connection of connections) {
      connection.frame = frame;
      connection.onMessage = onEcho;
    }
    for (const connection of connections) {
      connection.sentAt = performance.now();
      connection.socket.write(frame);
    }
    return { open: connections.length };
  },

  /** The echoes since the previous mark, their round-trip percentiles, and this process's CPU. */
  mark: () => {
    const samples = rtt.samples.subarray(0, rtt.count).toSorted();
    const result = {
      echoed,
      atNs: monotonicNs(),
      cpu: process.cpuUsage(),
      p50Ms: percentile(samples, 50),
      p99Ms: percentile(samples, 99),
    };
    echoed = 0;
    rtt.count = 0;
    return result;
  },

  /** Expects one message on every open connection; `collect` answers when all have arrived. */
  arm: () => {
    let done;
    const arrived = new Promise((resolve) => (done = resolve));
    fanOut = { expected: connections.length, received: 0, done, arrived };
  },
  collect: async () => {
    const lastNs = await fanOut.arrived;
    const { received } = fanOut;
    fanOut = null;
    return { received, lastNs };
  },

  /**
   * Handshake storm: `total` connections, `parallel` at a time, each upgraded then closed with a
   * close frame; the connection counts once the server has closed it.
   */
  storm: async ({ port, path, total, parallel }) => {
    const request = upgradeRequest(port, path);
    let started = 0;
    let failed = 0;
    let firstError = null;
    const once = () =>
      new Promise((resolve) => {
        const socket = connect({ host: HOST, port, noDelay: true });
        const connection = new Connection(socket);
        let ok = false;
        socket.on('connect', () => socket.write(request));
        socket.on('data', (chunk) => {
          if (connection.upgraded) return;
          if (!connection.receive(chunk)) {
            firstError ??= chunk.toString('latin1').split('\r\n')[0];
            socket.destroy();
          } else if (connection.upgraded) {
            ok = true;
            socket.write(CLOSE_FRAME);
          }
        });
        socket.on('error', (error) => (firstError ??= error.message));
        socket.on('close', () => {
          if (!ok) failed++;
          resolve();
        });
      });
    const startNs = monotonicNs();
    async function worker() {
      while (started < total) {
        started++;
        await once();
      }
    }
    await Promise.all(Array.from({ length: parallel }, worker));
    const seconds = (monotonicNs() - startNs) / 1e9;
    return { total, failed, firstError, seconds, perSecond: (total - failed) / seconds };
  },

  close: () => closeAll(),
  exit: () => {
    closeAll();
    process.exit(0);
  },
});

announceReady({ pid: process.pid });
