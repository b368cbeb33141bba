import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WebSocketRegistry } from '../../src/index.js';
import { ADAPTERS, closed, connect, nextMessage, startApp, until } from '../support/app.js';
import { FaultsModule } from './faults.app.js';

describe.each(ADAPTERS)('handler faults affect only their own connection (%s)', (adapter) => {
  it('a throwing onMessage, a rejected promise and an onOpen that never resolves', async () => {
    const { app, url } = await startApp({ imports: [FaultsModule] }, undefined, adapter);
    const registry = app.get(WebSocketRegistry);
    const healthy = await Promise.all([1, 2, 3].map(() => connect(url('/echo'))));
    const throwing = await connect(url('/faulty/throw'));
    const rejecting = await connect(url('/faulty/reject'));
    const hanging = await connect(url('/faulty/hang'));
    await until(() => registry.size === 6, 3000, 'every client to connect');

    const throwingClosed = closed(throwing);
    const rejectingClosed = closed(rejecting);
    const hangingMessages: string[] = [];
    hanging.on('message', (data: Buffer) => hangingMessages.push(data.toString()));
    throwing.send('boom');
    rejecting.send('boom');
    hanging.send('held until onOpen settles');
    expect((await throwingClosed).code).toBe(1011);
    expect((await rejectingClosed).code).toBe(1011);

    // The others go on: every healthy client echoes, the hanging one is still open.
    for (const [i, client] of healthy.entries()) {
      client.send(`still here ${i}`);
      expect(await nextMessage(client)).toBe(`still here ${i}`);
    }
    expect(hanging.readyState).toBe(WebSocket.OPEN);
    expect(registry.size).toBe(4);

    // At shutdown the connection whose onOpen never settled still gets its close.
    const hangingClosed = closed(hanging);
    const healthyClosed = healthy.map((client) => closed(client));
    await app.close();
    expect((await hangingClosed).code).toBe(1001);
    for (const close of healthyClosed) expect((await close).code).toBe(1001);
    expect(hangingMessages).toEqual([]); // its message was held, never echoed
    expect(registry.size).toBe(0);
  });
});
