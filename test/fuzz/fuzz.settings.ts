/**
 * How much to fuzz. `npm test` runs a small, fixed-seed sample (reproducible in CI); `npm run fuzz`
 * sets `FUZZ_RUNS` and gets a random seed, printed so that a failure can be replayed with
 * `FUZZ_SEED=<seed> npm run fuzz`.
 */
export const LONG_RUN = process.env.FUZZ_RUNS !== undefined;

export function fuzzRuns(ciRuns: number): number {
  return LONG_RUN ? Number(process.env.FUZZ_RUNS) : ciRuns;
}

export const FUZZ_SEED = process.env.FUZZ_SEED
  ? Number(process.env.FUZZ_SEED)
  : LONG_RUN
    ? Math.floor(Math.random() * 0x7fffffff)
    : 20260515;

/** A timeout for a test that runs `runs` cases of about `perRunMs` each. */
export function fuzzTimeout(runs: number, perRunMs: number): number {
  return Math.max(20_000, runs * perRunMs);
}

/**
 * Collects what escapes to the process while the app runs in this test process: an uncaught
 * exception or unhandled rejection anywhere is a failure of the property being fuzzed.
 */
export function watchProcessErrors(): { errors: unknown[]; stop: () => void } {
  const errors: unknown[] = [];
  const onError = (error: unknown) => errors.push(error);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    errors,
    stop: () => {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}
