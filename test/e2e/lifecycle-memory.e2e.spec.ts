import { Controller, Injectable, Module } from '@nestjs/common';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  WebSocketHandler,
  WebSocketRoute,
  WsModule,
  type WebSocketRouteOptions,
} from '../../src/index.js';
import { until } from '../support/app.js';
import { pauseReading, useLifecycleApp } from './lifecycle.helpers.js';

// The queue that backpressure bounds is the upgraded socket's, the same object on Express and
// Fastify: the adapter cannot matter, so this memory-heavy test runs on Express only.

// The server runs in this process; a full GC before each reading makes it the memory still
// reachable, not garbage. `--expose-gc` can be turned on at run time, so vitest needs no flag.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;

@Injectable()
class SinkHandler extends WebSocketHandler {}

const stream = (options: WebSocketRouteOptions) => WebSocketRoute('', SinkHandler, options);

@Controller('drop')
class DropController {
  @stream({ backpressure: 'drop' })
  route() {}
}

@Controller('close')
class CloseController {
  @stream({ backpressure: 'close', sendAfterClose: 'ignore', closeTimeoutMs: 60_000 })
  route() {}
}

/** No effective limit: shows the measurement sees a queue that is not bounded. */
@Controller('unbounded')
class UnboundedController {
  @stream({ maxBackpressure: 1024 * MiB })
  route() {}
}

@Module({
  imports: [WsModule.forRoot()],
  controllers: [DropController, CloseController, UnboundedController],
})
class AppModule {}

/**
 * Heap plus Buffer memory: ws queues Buffers, which live outside the JS heap. V8 frees Buffer
 * memory on a background thread after a GC, so collect twice with a pause between.
 */
async function retained(): Promise<number> {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 100));
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/**
 * Sends `total` bytes to the handler in fresh 64 KiB buffers (as an app producing data would),
 * yielding to the event loop now and then so the socket gets its turns; returns how much memory
 * stayed reachable afterwards, while the client still reads nothing.
 */
async function growthAfterSending(handler: WebSocketHandler, total: number): Promise<number> {
  const before = await retained();
  for (let sent = 0; sent < total; sent += CHUNK) {
    handler.send(Buffer.alloc(CHUNK, 1));
    if (sent % (64 * CHUNK) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return (await retained()) - before;
}

describe('memory with a reader that never reads (express)', () => {
  const server = useLifecycleApp({ imports: [AppModule] });

  async function pausedPair(path: string) {
    const pair = await server.open(path);
    pauseReading(pair.client);
    return pair;
  }

  it('the probe sees an unbounded queue: 64 MiB queued stay reachable', async () => {
    const { handler } = await pausedPair('/unbounded');
    const growth = await growthAfterSending(handler, 64 * MiB);
    // the kernel's socket buffers hold a few MiB of it; the rest is queued in the process
    expect(growth).toBeGreaterThan(40 * MiB);
    // free it before the next test takes its baseline
    handler.terminate();
    await until(() => server.registry.get(handler.id) === undefined);
  });

  it.each(['drop', 'close'])(
    "backpressure '%s': sending 200 MiB leaves the server's memory within 16 MiB of where it was",
    async (policy) => {
      const { handler } = await pausedPair(`/${policy}`);
      const growth = await growthAfterSending(handler, 200 * MiB);
      // 'close' adds its close frame behind the queue
      expect(handler.bufferedAmount).toBeLessThanOrEqual(MiB + 32);
      expect(handler.isOpen).toBe(policy === 'drop');
      expect(growth).toBeLessThan(16 * MiB);
    },
  );
});
