import { startProcess, type RunningProcess } from '../support/process.js';

const LISTENING = /Listening on http:\/\/127\.0\.0\.1:(\d+)/;
const APP = 'test/history/history.app.mjs';

/** Starts the history test app as its own process; resolves with it and its `ws://` base URL. */
export async function startInstance(env: Record<string, string>) {
  const started = await startProcess(APP, env, LISTENING, 30_000);
  return { process: started, base: `ws://127.0.0.1:${started.match[1]}` };
}

export async function stopInstances(instances: { process: RunningProcess }[]): Promise<void> {
  for (const { process } of instances) process.child.kill('SIGTERM');
  await Promise.all(instances.map(({ process }) => process.exited));
}
