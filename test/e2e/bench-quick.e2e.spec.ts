import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/process.js';

// Proves `npm run bench -- --quick` works end to end (every server, every scenario); asserts
// nothing about speed. The global setup has built dist/ already, hence --no-build.
describe('benchmark, quick mode', () => {
  const out = mkdtempSync(join(tmpdir(), 'bench-quick-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs every server through every scenario and writes the Markdown table and JSON', async () => {
    const { code, output } = await new Promise<{ code: number | null; output: string }>(
      (resolve) => {
        const child = execFile(
          process.execPath,
          ['test/bench/run.mjs', '--quick', '--no-build', '--out', out],
          { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
          (error, stdout, stderr) =>
            resolve({ code: error ? (child.exitCode ?? 1) : 0, output: stdout + stderr }),
        );
      },
    );
    if (code !== 0) console.error(output);
    expect(code).toBe(0);

    const markdown = readFileSync(join(out, 'quick.md'), 'utf8');
    const report = JSON.parse(readFileSync(join(out, 'quick.json'), 'utf8'));
    const titles = [
      '### Echo, 32 B text',
      '### Echo, 16 KiB text',
      '### Handshake storm: ',
      '### Handshake storm with one async guard',
      '### Handshake storm with one trivial middleware',
      '### Memory per idle connection',
      '### Fan-out: one 32 B text message',
      '### Targets',
    ];
    for (const title of titles) expect(markdown).toContain(title);
    for (const scenario of report.scenarios) {
      const rows = report.summary[scenario.id];
      expect(rows.map((row: { server: string }) => row.server)).toEqual(
        expect.arrayContaining(scenario.servers),
      );
      for (const server of scenario.servers) {
        expect(markdown).toContain(`| ${report.servers[server]}`);
      }
    }
    const fanOutRows = report.summary.fanOut.map(
      (row: { server: string; mode: string }) => `${row.server}:${row.mode}`,
    );
    expect(fanOutRows).toContain('library-express:broadcast');
    expect(fanOutRows).toContain('library-express:loop');
    // Every ratio to raw ws is a positive number: each server really answered.
    for (const row of report.summary.echo32) {
      expect(row.metrics.messagesPerSecond.ratio).toBeGreaterThan(0);
    }
  }, 180_000);
});
