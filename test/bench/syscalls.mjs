// The system calls a bench server makes per handshake on a warm server: the server serves a storm
// of 5,000 handshakes first, then `strace -c -f` is attached to it for a second storm of 5,000,
// and its counts are printed per handshake. Servers that make the same calls with the same bytes
// differ only in user-space work, which `npm run bench -- --instructions` counts.
// Usage: node test/bench/syscalls.mjs test/bench/servers/<server>.mjs [args...]
//   e.g. node test/bench/syscalls.mjs test/bench/servers/library.mjs fastify
// Needs strace (Debian's strace package) and `npm run build` first (the servers load dist/).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { ChildProcessPeer } from './ipc.mjs';

const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error('usage: node test/bench/syscalls.mjs test/bench/servers/<server>.mjs [args...]');
  process.exit(2);
}
const HANDSHAKES = 5000;
const storm = { path: '/echo', total: HANDSHAKES, parallel: 50 };

const server = new ChildProcessPeer(resolvePath(script), args, { label: script });
const load = new ChildProcessPeer(new URL('./load.mjs', import.meta.url).pathname, [], {
  label: 'load',
});
try {
  const { port, pid } = await server.ready();
  await load.ready();
  await load.request('storm', { port, ...storm }); // warm-up, not traced
  const out = join(mkdtempSync(join(tmpdir(), 'syscalls-')), 'strace.txt');
  const strace = spawn('strace', ['-c', '-f', '-o', out, '-p', String(pid)], { stdio: 'ignore' });
  const started = new Promise((resolve, reject) => {
    strace.once('error', reject);
    strace.once('spawn', resolve);
  });
  await started;
  // strace needs a moment to attach to every thread before the storm starts.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const result = await load.request('storm', { port, ...storm });
  const exited = new Promise((resolve) => strace.once('exit', resolve));
  strace.kill('SIGINT');
  await exited;
  if (result.failed > 0)
    throw new Error(`${result.failed} handshakes failed: ${result.firstError}`);
  // strace -c: "% time  seconds  usecs/call  calls  [errors]  syscall", a total line last.
  const rows = [];
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const fields = line.trim().split(/\s+/);
    const name = fields.at(-1);
    if (fields.length < 5 || !/^\d+$/.test(fields[3]) || name === 'total') continue;
    rows.push([name, Number(fields[3]) / HANDSHAKES]);
  }
  rows.sort((a, b) => b[1] - a[1]);
  console.log(`System calls per handshake, ${script} ${args.join(' ')} (warm, ${HANDSHAKES}):`);
  for (const [name, perHandshake] of rows) {
    if (perHandshake >= 0.01) console.log(`  ${perHandshake.toFixed(2).padStart(6)}  ${name}`);
  }
} finally {
  await load.request('exit').catch(() => undefined);
  await server.request('exit').catch(() => undefined);
}
process.exit(0);
