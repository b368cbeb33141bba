import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Several suites run built code as real processes (the sample, the schematics through the Nest
 * CLI, the soak), so build once, as `npm run build` does, before all suites.
 */
export default function buildOnce(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const run = (...args: string[]) =>
    execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  run('node_modules/typescript/bin/tsc', '-p', 'src/tsconfig.build.json');
  run('src/schematics/copy-assets.mjs');
}
