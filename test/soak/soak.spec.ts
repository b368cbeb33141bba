import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/process.js';

const SECONDS = 15;

/** Runs the soak script (over the built library: the global setup builds it) and reads its figures. */
function runSoak(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', 'test/soak/soak.mjs'], {
      cwd: ROOT,
      env: { ...process.env, SOAK_SECONDS: String(SECONDS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe(`soak (${SECONDS} s version of npm run soak)`, () => {
  it('churns connections and leaves nothing behind: registry, handles, timers, heap', async () => {
    const { code, output } = await runSoak();
    expect(output).toMatch(/^SOAK RESULT \{/m);
    const line = output.split('\n').find((l) => l.startsWith('SOAK RESULT '))!;
    const figures = JSON.parse(line.slice('SOAK RESULT '.length));
    console.log(line);
    expect(figures.connections).toBe(Math.round((2000 * SECONDS) / 60));
    expect(figures.opened).toBe(figures.connections);
    expect(figures.echoesReceived).toBeGreaterThan(0);
    expect(figures.broadcastsReceived).toBeGreaterThan(0);
    expect(figures.registryAfter).toBe(0);
    expect(figures.resourcesEnd).toEqual(figures.resourcesStart);
    expect(figures.heapGrowthPct).toBeLessThanOrEqual(10);
    expect(code).toBe(0);
  }, 90_000);
});
