// Soak: churns WebSocket connections against the BUILT library (dist/), with random sends,
// disconnects and broadcasts, then checks that nothing is left behind: the registry is empty, the
// process's active handles and timers are back to their baseline, and the heap after GC is within
// 10% of the start.
//
//   npm run soak                                  60 s, 2,000 connections
//   SOAK_SECONDS=15 node --expose-gc test/soak/soak.mjs   what CI runs (connections scale with time)
//
// Prints one line `SOAK RESULT {json}` and exits 0 when every check holds, 1 otherwise.
// CPU stays bounded: the app and the clients share this one process (one core at most).
import 'reflect-metadata';
import { Controller, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WebSocket } from 'ws';
import {
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
} from '../../dist/src/index.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? Math.round((2000 * SECONDS) / 60));
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 150);
const ROOMS = ['a', 'b', 'c', 'd'];
const HEAP_TOLERANCE = 0.1;

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}

// --- the app: plain JavaScript, so decorators are applied as functions ---------------------------
class RoomHandler extends WebSocketHandler {
  onOpen() {
    this.subscribe(this.params.room);
  }
  onMessage(data) {
    this.send(data);
  }
}
Injectable()(RoomHandler);

class SoakController {
  room() {}
}
Reflect.decorate(
  [WebSocketRoute('rooms/:room', RoomHandler)],
  SoakController.prototype,
  'room',
  Object.getOwnPropertyDescriptor(SoakController.prototype, 'room'),
);
Controller()(SoakController);

class SoakModule {}
Module({
  imports: [WsModule.forRoot({ heartbeatMs: 1000, closeTimeoutMs: 1000 })],
  controllers: [SoakController],
})(SoakModule);

// --- measuring ---------------------------------------------------------------------------------
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const random = (n) => Math.floor(Math.random() * n);

function resources() {
  const counts = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

async function settledHeap() {
  let heap = Infinity;
  for (let i = 0; i < 6; i++) {
    globalThis.gc();
    await sleep(50);
    heap = Math.min(heap, process.memoryUsage().heapUsed);
  }
  return heap;
}

// --- the clients -------------------------------------------------------------------------------
const stats = { opened: 0, failed: 0, messages: 0, echoes: 0, broadcastsReceived: 0 };

/** One client: connects, sends a few messages, then leaves by one of several ways. */
function client(url) {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${url}/rooms/${ROOMS[random(ROOMS.length)]}`);
    const lifetime = 200 + random(2000);
    let timer;
    socket.on('open', () => {
      stats.opened++;
      const sends = random(6);
      for (let i = 0; i < sends; i++) {
        socket.send(i % 2 ? Buffer.alloc(random(2000)) : `message ${i}`);
        stats.messages++;
      }
      timer = setTimeout(() => {
        const way = random(4);
        if (way === 0)
          socket.terminate(); // vanishes without a close frame
        else if (way === 1)
          socket._socket?.destroy(); // TCP reset-like drop
        else socket.close(way === 2 ? 1000 : 4000, 'bye');
      }, lifetime);
    });
    socket.on('message', (data, isBinary) => {
      if (!isBinary && data.length === 1) stats.broadcastsReceived++;
      else stats.echoes++;
    });
    socket.on('error', () => undefined);
    socket.on('unexpected-response', () => {
      stats.failed++;
      socket.terminate();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// --- the run -----------------------------------------------------------------------------------
const app = await NestFactory.create(SoakModule, { logger: false });
await app.listen(0, '127.0.0.1');
const url = `ws://127.0.0.1:${app.getHttpServer().address().port}`;
const registry = app.get(WebSocketRegistry);

// Warm up (lazy allocations, JIT), then take the baseline with no connection open.
await Promise.all(Array.from({ length: 50 }, () => client(url)));
while (registry.size > 0) await sleep(20);
await sleep(200);
for (const key of Object.keys(stats)) stats[key] = 0;
const heapStart = await settledHeap();
const resourcesStart = resources();

const started = performance.now();
const deadline = started + SECONDS * 1000;
let broadcasts = 0;
const broadcaster = setInterval(() => {
  registry.broadcast('B');
  registry.publish(ROOMS[random(ROOMS.length)], 'P');
  broadcasts++;
}, 100);

// Keep CONCURRENCY clients alive, spreading CONNECTIONS over SECONDS.
let launched = 0;
const running = new Set();
const launchEveryMs = (SECONDS * 1000) / CONNECTIONS;
// A loaded machine falls behind the schedule: it gets as long again to launch every connection.
while (launched < CONNECTIONS && performance.now() < deadline + SECONDS * 1000) {
  const due = Math.ceil((performance.now() - started) / launchEveryMs);
  while (launched < due && launched < CONNECTIONS && running.size < CONCURRENCY) {
    const done = client(url).then(() => running.delete(done));
    running.add(done);
    launched++;
  }
  await sleep(10);
}
await Promise.all(running);
clearInterval(broadcaster);
const churnSeconds = (performance.now() - started) / 1000;

// Everything the server held must go: the registry, the sockets, the timers, the memory.
const drainDeadline = performance.now() + 10_000;
while (registry.size > 0 && performance.now() < drainDeadline) await sleep(20);
await sleep(500);
const registryAfter = registry.size;
const heapEnd = await settledHeap();
const resourcesEnd = resources();
const heapGrowth = (heapEnd - heapStart) / heapStart;

const resourcesBack =
  JSON.stringify(Object.entries(resourcesEnd).toSorted()) ===
  JSON.stringify(Object.entries(resourcesStart).toSorted());
const ok =
  registryAfter === 0 &&
  resourcesBack &&
  heapGrowth <= HEAP_TOLERANCE &&
  stats.opened === launched &&
  stats.failed === 0;
const mb = (bytes) => Math.round((bytes / 1048576) * 10) / 10;
console.log(
  'SOAK RESULT ' +
    JSON.stringify({
      ok,
      seconds: Math.round(churnSeconds),
      connections: launched,
      opened: stats.opened,
      failedHandshakes: stats.failed,
      concurrency: CONCURRENCY,
      messagesSent: stats.messages,
      echoesReceived: stats.echoes,
      broadcasts,
      broadcastsReceived: stats.broadcastsReceived,
      registryAfter,
      heapStartMB: mb(heapStart),
      heapEndMB: mb(heapEnd),
      heapGrowthPct: Math.round(heapGrowth * 1000) / 10,
      resourcesStart,
      resourcesEnd,
    }),
);
await app.close();
process.exit(ok ? 0 : 1);
