import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The sample tests run the built sample as a real process, so build once before all suites. */
export default function buildOnce(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
