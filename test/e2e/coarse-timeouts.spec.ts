import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { CoarseTimeouts, granularityOf } from '../../src/util/coarse-timeouts.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Adds `items` with `delayMs` and resolves with the ms after which each fired. */
function firedAfter(timeouts: CoarseTimeouts<string>, fired: Map<string, number>) {
  const started = new Map<string, number>();
  return {
    add(item: string, delayMs: number) {
      started.set(item, performance.now());
      return timeouts.add(item, delayMs);
    },
    elapsed: (item: string) => fired.get(item)! - started.get(item)!,
  };
}

describe('CoarseTimeouts', () => {
  it('fires each item no earlier than its delay and no later than its granularity after it', async () => {
    const fired = new Map<string, number>();
    const timeouts = new CoarseTimeouts<string>((item) => fired.set(item, performance.now()));
    const clock = firedAfter(timeouts, fired);
    clock.add('a', 120);
    await sleep(30);
    clock.add('b', 120);
    clock.add('c', 40);
    await sleep(300);
    expect([...fired.keys()]).toEqual(['c', 'a', 'b']);
    for (const [item, delay] of [
      ['a', 120],
      ['b', 120],
      ['c', 40],
    ] as const) {
      expect(clock.elapsed(item)).toBeGreaterThanOrEqual(delay - 1);
      // the granularity, plus what a loaded machine may delay a timer by
      expect(clock.elapsed(item)).toBeLessThan(delay + granularityOf(delay) + 100);
    }
  });

  it('never fires a cancelled item, and fires the others of its lane', async () => {
    const fired: string[] = [];
    const timeouts = new CoarseTimeouts<string>((item) => fired.push(item));
    const lane = timeouts.add('kept', 30);
    timeouts.add('cancelled', 30).delete('cancelled');
    lane.delete('never added');
    await sleep(120);
    expect(fired).toEqual(['kept']);
    // an empty lane starts again when an item comes
    timeouts.add('later', 30);
    await sleep(120);
    expect(fired).toEqual(['kept', 'later']);
  });

  it('is late by at most a tenth of the delay, between 2 and 100 ms', () => {
    expect(granularityOf(1)).toBe(2);
    expect(granularityOf(400)).toBe(40);
    expect(granularityOf(10_000)).toBe(100);
  });
});
