import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, backoffDelay } from '../../src/client/backoff.js';

describe('backoffDelay: exponential back-off with full jitter', () => {
  it('defaults: a ceiling of 500 ms doubling per attempt up to 10 s', () => {
    expect(DEFAULT_BACKOFF).toEqual({ firstDelayMs: 500, maxDelayMs: 10_000, factor: 2 });
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 20].map((attempt) =>
      backoffDelay(attempt, DEFAULT_BACKOFF, () => 1),
    );
    expect(ceilings).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('full jitter: anywhere from 0 to the ceiling', () => {
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5)).toBe(1000);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.999_999)).toBe(1999);
  });

  it('every delay lies in [0, min(max, first * factor ** (attempt - 1))) for any options', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 120_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.integer({ min: 1, max: 100 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (firstDelayMs, maxDelayMs, factor, attempt, random) => {
          const delay = backoffDelay(attempt, { firstDelayMs, maxDelayMs, factor }, () => random);
          const ceiling = Math.min(maxDelayMs, firstDelayMs * factor ** (attempt - 1));
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.max(ceiling, 1));
        },
      ),
    );
  });

  it('spreads the clients of one restart: 1000 draws of attempt 1 cover the whole interval', () => {
    const delays = Array.from({ length: 1000 }, () => backoffDelay(1, DEFAULT_BACKOFF));
    expect(Math.min(...delays)).toBeLessThan(50);
    expect(Math.max(...delays)).toBeGreaterThan(450);
    expect(Math.max(...delays)).toBeLessThan(500);
  });
});
