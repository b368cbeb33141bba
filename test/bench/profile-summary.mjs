// Summarizes a V8 .cpuprofile (from `npm run bench -- --profile`): where the server's CPU time went,
// by function (self time), by package and, for a handshake storm, by step of the handshake.
// Usage: node test/bench/profile-summary.mjs FILE [TOP] [--handshakes N]
//   --handshakes N: the busy time per handshake by step, in µs (N: the storm's handshakes)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stepOf } from './handshake-steps.mjs';

const {
  values: { handshakes },
  positionals: [file, top = '25'],
} = parseArgs({ options: { handshakes: { type: 'string' } }, allowPositionals: true });
if (!file) {
  console.error(
    'usage: node test/bench/profile-summary.mjs FILE.cpuprofile [TOP] [--handshakes N]',
  );
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));

// Self time per node: the sampling intervals attributed to it, from the first sample in a `ws`
// function on
// (the start-up, module loading and bootstrap, is left out) and without idle time.
const nodeById = new Map(profile.nodes.map((node) => [node.id, node]));
const firstTraffic = profile.samples.findIndex((id) => {
  const { url, functionName } = nodeById.get(id).callFrame;
  return functionName !== '' && url.includes('node_modules/ws/lib/');
});
const selfUs = new Map();
for (let i = Math.max(0, firstTraffic); i < profile.samples.length; i++) {
  const id = profile.samples[i];
  if (nodeById.get(id).callFrame.functionName === '(idle)') continue;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
}
const total = [...selfUs.values()].reduce((sum, value) => sum + value, 0);

function packageOf(url) {
  if (!url) return '(native: syscalls, GC)';
  if (url.startsWith('node:')) return 'node core';
  const match = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (match) return match[1];
  if (url.includes('/dist/src/')) return 'nestjs-ws-routes';
  if (url.includes('/test/bench/')) return 'bench harness';
  return url;
}

const byFunction = new Map();
const byPackage = new Map();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url
    ? `${url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/')}:${lineNumber + 1}`
    : '';
  const key = `${functionName || '(anonymous)'} ${where}`.trim();
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const pkg = packageOf(url);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
}

const percent = (us) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
console.log(
  `${file}: ${(total / 1e6).toFixed(2)} s busy after the first ws call (idle left out)\n\nBy package (self time):`,
);
for (const [name, us] of [...byPackage].toSorted((a, b) => b[1] - a[1])) {
  console.log(`  ${percent(us)}  ${name}`);
}
console.log(`\nTop ${top} functions (self time):`);
for (const [name, us] of [...byFunction].toSorted((a, b) => b[1] - a[1]).slice(0, Number(top))) {
  console.log(`  ${percent(us)}  ${name}`);
}

if (handshakes) {
  // Each sample goes to the innermost frame of its stack that belongs to a step (a socket write
  // inside ws's handleUpgrade is handleUpgrade's); what no step claims goes by its own package.
  const parentOf = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  const stepOfNode = new Map();
  const classify = (id) => {
    if (stepOfNode.has(id)) return stepOfNode.get(id);
    const { functionName, url } = nodeById.get(id).callFrame;
    const parent = parentOf.get(id);
    const step = stepOf(functionName, url) ?? (parent === undefined ? undefined : classify(parent));
    stepOfNode.set(id, step);
    return step;
  };
  const bySteps = new Map();
  for (const [id, us] of selfUs) {
    const { url } = nodeById.get(id).callFrame;
    const step = classify(id) ?? `other: ${packageOf(url)}`;
    bySteps.set(step, (bySteps.get(step) ?? 0) + us);
  }
  const count = Number(handshakes);
  console.log(
    `\nBy step of the handshake (innermost step on the stack; busy µs per handshake over ${count}):`,
  );
  for (const [name, us] of [...bySteps].toSorted((a, b) => b[1] - a[1])) {
    console.log(`  ${percent(us)}  ${(us / count).toFixed(1).padStart(6)} µs  ${name}`);
  }
  console.log(`  100.0 %  ${(total / count).toFixed(1).padStart(6)} µs  busy in all`);
}
