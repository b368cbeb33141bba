// Sorts the instructions a server executed during a handshake storm (the callgrind files of
// `npm run bench -- --only handshake --instructions`) into what ran them: V8's compilers, its
// garbage collector, its builtins (inline caches, interpreter), the JavaScript it compiled, Node's
// C++, libc... per handshake, one column per file in the order given, so that two servers or two
// commits line up.
// Usage: node test/bench/instructions-summary.mjs FILE... --handshakes N [--top K]
//   --handshakes N: the storm's handshakes (5000, or 500 for a --quick run; the bench prints it)
//   --top K:        also the K functions whose count differs most between the first and last file
// Needs `callgrind_annotate` (Debian's valgrind package).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = 'usage: node test/bench/instructions-summary.mjs FILE... --handshakes N [--top K]';

/** Exits 2 with `message` and the usage: a bad command line is the user's to fix, not a crash. */
function refuse(message) {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      handshakes: { type: 'string' },
      top: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
} catch (error) {
  refuse(error.message);
}
const {
  values: { handshakes, top, help },
  positionals: files,
} = parsed;
if (help) {
  console.log(USAGE);
  process.exit(0);
}
const positive = (value) => /^[1-9]\d*$/.test(value ?? '');
if (files.length === 0) refuse('no callgrind file given');
if (!positive(handshakes)) refuse("--handshakes N: the storm's handshakes, a positive integer");
if (top !== undefined && !positive(top)) refuse('--top K: a positive integer');
for (const file of files) {
  if (!existsSync(file)) refuse(`${file}: no such file`);
  if (!readFileSync(file, 'latin1').startsWith('# callgrind format')) {
    refuse(`${file}: not a callgrind file (npm run bench -- --instructions writes them)`);
  }
}

/** [category, test(function)], the first that matches wins; the function is callgrind's name. */
const CATEGORIES = [
  // Code V8 generated at run time has no symbol: the application's JavaScript, compiled.
  ['JavaScript, compiled (optimized or baseline code)', (name) => name.endsWith(' [???]')],
  [
    "V8's compilers (TurboFan, Sparkplug, the parser)",
    (name) =>
      /v8::internal::(compiler|maglev|baseline|interpreter|wasm)::|v8::internal::(Parser|Scanner|Zone|Assembler|RegExp)|v8::internal::Compiler::/.test(
        name,
      ),
  ],
  [
    "V8's garbage collector and allocation",
    (name) =>
      /Scaveng|Marking|Sweep|MarkCompact|Evacuat|v8::internal::Heap::|heap::base|MemoryChunk|IteratePointers|RememberedSet|SlotSet|ObjectCache|SizeFromMap|MemoryAllocator|Allocat/.test(
        name,
      ),
  ],
  ['V8 builtins (inline caches, interpreter, runtime stubs)', (name) => /Builtins_/.test(name)],
  [
    'V8 stack traces and deoptimization',
    (name) =>
      /Deoptimiz|Translat|VisitStack|CallSiteBuilder|FrameSummary|StackTrace|StackFrame|SafepointTable|CallSiteInfo|ErrorUtils|BaselineFrame|JavaScriptFrame/.test(
        name,
      ),
  ],
  ['V8 runtime (property lookups, other)', (name) => /v8::/.test(name)],
  ["Node's C++ (bindings)", (name) => /node::/.test(name)],
  ['libuv', (name) => /libuv|uv_/.test(name)],
  ['libc, libstdc++', (name) => /libc\.so|libstdc\+\+|libm\.so/.test(name)],
  ['other native', () => true],
];

/** Instructions per function name, from `callgrind_annotate` (every function, no threshold). */
function functionsOf(file) {
  let text;
  try {
    text = execFileSync('callgrind_annotate', ['--threshold=100', file], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    console.error(
      error.code === 'ENOENT'
        ? 'callgrind_annotate is missing: apt-get install valgrind'
        : `callgrind_annotate could not read ${file}:\n${error.stderr || error.message}`,
    );
    process.exit(1);
  }
  const counts = new Map();
  let listing = false;
  for (const line of text.split('\n')) {
    if (line.includes('file:function')) {
      listing = true;
      continue;
    }
    if (!listing) continue;
    const match = line.match(/^\s*([\d,]+) \([^)]*\)\s+(.*)$/);
    if (!match) continue;
    const name = match[2];
    counts.set(name, (counts.get(name) ?? 0) + Number(match[1].replaceAll(',', '')));
  }
  return counts;
}

const perHandshake = (count) => count / Number(handshakes);
const tables = files.map(functionsOf);
const byCategory = new Map(CATEGORIES.map(([category]) => [category, files.map(() => 0)]));
tables.forEach((counts, column) => {
  for (const [name, count] of counts) {
    const [category] = CATEGORIES.find(([, test]) => test(name));
    byCategory.get(category)[column] += count;
  }
});

/** A file's column: the server's name, without the scenario and the time stamp the bench adds. */
const labelOf = (file) =>
  basename(file)
    .replace(/\.callgrind$/, '')
    .replace(/^handshake(Warm|Guard|Middleware)?-/, '')
    .replace(/-\d+$/, '');
const labels = files.map(labelOf);
const width = Math.max(12, ...labels.map((label) => label.length + 2));
const cell = (value) => Math.round(value).toLocaleString('en-US').padStart(width);
console.log(`Instructions per handshake (${handshakes} handshakes)\n`);
console.log(`${'executed by'.padEnd(58)}${labels.map((label) => label.padStart(width)).join('')}`);
for (const [category, counts] of byCategory) {
  console.log(`${category.padEnd(58)}${counts.map((count) => cell(perHandshake(count))).join('')}`);
}
const totals = tables.map((counts) => [...counts.values()].reduce((sum, count) => sum + count, 0));
console.log(`${'in all'.padEnd(58)}${totals.map((count) => cell(perHandshake(count))).join('')}`);

if (top !== undefined && tables.length >= 2) {
  const first = tables[0];
  const last = tables.at(-1);
  const names = new Set([...first.keys(), ...last.keys()]);
  const difference = (name) => (last.get(name) ?? 0) - (first.get(name) ?? 0);
  console.log(
    `\nFunctions that differ most per handshake, ${basename(files.at(-1))} minus ` +
      `${basename(files[0])}:`,
  );
  for (const name of [...names]
    .toSorted((a, b) => Math.abs(difference(b)) - Math.abs(difference(a)))
    .slice(0, Number(top))) {
    console.log(`${cell(perHandshake(difference(name)))}  ${name.slice(0, 140)}`);
  }
}
