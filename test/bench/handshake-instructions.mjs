// Instructions per handshake under callgrind: a figure the machine's load does not move, for
// comparing one change to the code of a handshake (the bench's CPU µs per handshake swing by 20 %
// on a shared machine). Each server runs under `valgrind --tool=callgrind`, warms up with
// `--warmup` handshakes, then the counts are zeroed and `--handshakes` more are measured (a
// connect-upgrade-close storm from load.mjs, as in the bench). Every thread of the server counts
// (V8's compiler and GC threads too). Needs valgrind (callgrind_control).
// Usage: node test/bench/handshake-instructions.mjs [--servers library-express,express-ws,...]
//          [--warmup 1500] [--handshakes 1000] [--repeat 1]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ChildProcessPeer } from './ipc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SERVERS = {
  'library-express': ['library.mjs', ['express']],
  'library-fastify': ['library.mjs', ['fastify']],
  'express-ws': ['express-ws.mjs', []],
  'fastify-websocket': ['fastify-websocket.mjs', []],
  'raw-ws': ['raw-ws.mjs', []],
};

const { values: flags } = parseArgs({
  options: {
    servers: {
      type: 'string',
      default: 'library-express,express-ws,library-fastify,fastify-websocket',
    },
    warmup: { type: 'string', default: '1500' },
    handshakes: { type: 'string', default: '1000' },
    repeat: { type: 'string', default: '1' },
  },
});
const handshakes = Number(flags.handshakes);
const out = mkdtempSync(join(tmpdir(), 'handshake-callgrind-'));

/** Total instructions (Ir) of a callgrind dump: its `summary:` or `totals:` line. */
function totalInstructions(file) {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((text) => text.startsWith('summary:') || text.startsWith('totals:'));
  return Number(line.split(/\s+/)[1]);
}

async function measure(id, round) {
  const [script, args] = SERVERS[id];
  const prefix = [
    'valgrind',
    '--tool=callgrind',
    `--callgrind-out-file=${join(out, `${id}-${round}.%p`)}`,
  ];
  const server = new ChildProcessPeer(join(here, 'servers', script), args, { prefix, label: id });
  const load = new ChildProcessPeer(join(here, 'load.mjs'), [], { label: 'load' });
  try {
    const [{ port, pid }] = await Promise.all([server.ready(900_000), load.ready()]);
    const target = { port, path: '/echo', parallel: 50 };
    await load.request('storm', { ...target, total: Number(flags.warmup) }, 1_800_000);
    execFileSync('callgrind_control', ['--zero', String(pid)], { stdio: 'ignore' });
    const storm = await load.request('storm', { ...target, total: handshakes }, 1_800_000);
    if (storm.failed > 0)
      throw new Error(`${id}: ${storm.failed} handshakes failed: ${storm.firstError}`);
    execFileSync('callgrind_control', ['--dump', String(pid)], { stdio: 'ignore' });
    const dump = readdirSync(out).find((name) => name.startsWith(`${id}-${round}.${pid}.`));
    return totalInstructions(join(out, dump)) / handshakes;
  } finally {
    await Promise.all([load.stop(), server.stop()]);
  }
}

const results = {};
for (let round = 1; round <= Number(flags.repeat); round++) {
  for (const id of flags.servers.split(',')) {
    const perHandshake = await measure(id, round);
    (results[id] ??= []).push(perHandshake);
    console.log(
      `${id} round ${round}: ${(perHandshake / 1000).toFixed(1)} k instructions/handshake`,
    );
  }
}
console.log('\n| server | k instructions per handshake |\n| --- | ---: |');
for (const [id, values] of Object.entries(results)) {
  console.log(`| ${id} | ${values.map((v) => (v / 1000).toFixed(1)).join(', ')} |`);
}
