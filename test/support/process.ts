import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A built script run as its own process, with the URL it printed once listening. */
export interface RunningProcess {
  child: ChildProcess;
  output: () => string;
  /** The exit code, or the signal that ended it (Nest re-raises the shutdown signal once closed). */
  exited: Promise<number | string | null>;
}

/**
 * Starts `node <script>` from the repository root and resolves once its output matches `ready`
 * (rejects if it exits or stays silent for `timeoutMs`).
 */
export function startProcess(
  script: string,
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 15_000,
): Promise<RunningProcess & { match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    // A REDIS_URL of the test run (CI exports one) reaches a process only when the test passes it.
    env: { ...process.env, REDIS_URL: '', ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} not ready within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(ready);
      if (match) {
        clearTimeout(timer);
        resolve({ child, output: () => output, exited, match });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready:\n${output}`));
    });
  });
}

/** What the sample and the examples print once listening (see sample/listen.ts). */
const LISTENING_ON = /Listening on http:\/\/[^:]+:(\d+)/;

/**
 * A built app of the sample started as one more instance on 127.0.0.1, a free port, with `env`
 * added (e.g. `REDIS_URL`); resolves once it listens, with its port.
 */
export async function startInstance(
  script: string,
  env: Record<string, string>,
): Promise<RunningProcess & { port: number }> {
  const started = await startProcess(
    script,
    { PORT: '0', HOST: '127.0.0.1', ...env },
    LISTENING_ON,
  );
  return { ...started, port: Number(started.match[1]) };
}
