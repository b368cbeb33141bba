// Request/response over Node's IPC channel between the orchestrator (run.mjs) and the processes it
// starts (servers and load generators). A request is `{ id, cmd, ...args }`, its answer
// `{ id, result }` or `{ id, error }`; a child announces it is ready with `{ ready: true, ...info }`.
import { spawn } from 'node:child_process';

/** Child side: answers each request with `handlers[cmd](request)` (which may be async). */
export function answerRequests(handlers) {
  process.on('message', async (request) => {
    const { id, cmd } = request;
    try {
      const handler = handlers[cmd];
      if (!handler) throw new Error(`unknown command ${cmd}`);
      process.send({ id, result: (await handler(request)) ?? null });
    } catch (error) {
      process.send({ id, error: String(error?.stack ?? error) });
    }
  });
}

/** Child side: tells the orchestrator it is ready, with what it needs to know (e.g. the port). */
export function announceReady(info = {}) {
  process.send({ ready: true, ...info });
}

/** Monotonic time in nanoseconds as a Number: comparable across processes of this machine. */
export function monotonicNs() {
  return Number(process.hrtime.bigint());
}

/** Parent side: a child process running `node script args`. */
export class ChildProcessPeer {
  #pending = new Map();
  #nextId = 1;
  #exited;
  #ready;

  /**
   * `prefix` wraps the node command (e.g. `['taskset', '-c', '0']`); `env` defaults to ours;
   * `timeoutFactor` stretches every timeout (a child under valgrind runs some 50 times slower).
   */
  constructor(
    script,
    args,
    { prefix = [], nodeArgs = [], label = script, env, timeoutFactor = 1 } = {},
  ) {
    this.timeoutFactor = timeoutFactor;
    const [file, ...argv] = [...prefix, process.execPath, ...nodeArgs, script, ...args];
    this.label = label;
    this.child = spawn(file, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
    this.#exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve(code ?? signal)),
    );
    this.#ready = new Promise((resolve, reject) => {
      this.child.on('message', (message) => {
        if (message.ready) {
          resolve(message);
          return;
        }
        const pending = this.#pending.get(message.id);
        if (!pending) return;
        this.#pending.delete(message.id);
        if (message.error) pending.reject(new Error(`${this.label}: ${message.error}`));
        else pending.resolve(message.result);
      });
      void this.#exited.then((code) => {
        const error = new Error(`${this.label} exited with ${code}`);
        reject(error);
        for (const pending of this.#pending.values()) pending.reject(error);
        this.#pending.clear();
      });
    });
  }

  /** Resolves with the child's ready announcement; rejects if it exits or stays silent. */
  ready(timeoutMs = 30_000) {
    return withTimeout(this.#ready, timeoutMs * this.timeoutFactor, `${this.label} not ready`);
  }

  request(cmd, args = {}, timeoutMs = 120_000) {
    const id = this.#nextId++;
    const answer = new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    this.child.send({ id, cmd, ...args });
    return withTimeout(
      answer,
      timeoutMs * this.timeoutFactor,
      `${this.label}: no answer to ${cmd}`,
    );
  }

  /** Asks the child to exit (so a --cpu-prof profile gets written), then kills it if it lingers. */
  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      this.child.send({ id: 0, cmd: 'exit' });
    } catch {
      // the channel is already closed
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000 * this.timeoutFactor);
    await this.#exited;
    clearTimeout(timer);
  }
}

function withTimeout(promise, timeoutMs, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
