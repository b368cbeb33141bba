import { describe, expect, it } from 'vitest';
import { closed, connect, nextMessage } from '../support/app.js';
import { startProcess } from '../support/process.js';

describe('reference sample (built, run as its own process)', () => {
  it('serves /echo and closes connections with 1001 on SIGTERM, then exits', async () => {
    const sample = await startProcess(
      'dist/sample/main.js',
      { PORT: '0', HOST: '127.0.0.1' },
      /Listening on http:\/\/[^:]+:(\d+)/,
    );
    const port = sample.match[1];
    const client = await connect(`ws://127.0.0.1:${port}/echo`);
    client.send('hello sample');
    expect(await nextMessage(client)).toBe('hello sample');
    const done = closed(client);
    sample.child.kill('SIGTERM');
    expect((await done).code).toBe(1001);
    expect(await sample.exited).toBe('SIGTERM');
  });
});
