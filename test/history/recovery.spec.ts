import { describe, expect, it } from 'vitest';
import { isStreamPosition, planRecovery, readWindow } from '../../src/history/recovery.js';
import type { StreamPosition } from '../../src/interfaces/stream-position.interface.js';

const read = (top: number, first: number, epoch = 'e1') => ({
  epoch,
  top,
  publications: Array.from({ length: Math.max(0, top - first + 1) }, (_, i) => ({
    offset: first + i,
    data: `d${first + i}`,
  })),
});

/** A `since` as a client might send it: anything at all. */
const at = (offset: unknown, epoch: unknown = 'e1') => ({ offset, epoch }) as never;

describe('planRecovery', () => {
  it('replays everything after `since` when the stream still has it', () => {
    expect(planRecovery(read(5, 1), { offset: 2, epoch: 'e1' }, 10)).toEqual({
      recovered: true,
      replay: [
        { offset: 3, data: 'd3' },
        { offset: 4, data: 'd4' },
        { offset: 5, data: 'd5' },
      ],
    });
    expect(planRecovery(read(5, 1), { offset: 5, epoch: 'e1' }, 10)).toEqual({
      recovered: true,
      replay: [],
    });
  });

  it('replays nothing, with the reason, when it cannot be complete', () => {
    expect(planRecovery(read(5, 1), at(2, 'other'), 10).reason).toBe('epoch');
    expect(planRecovery(read(9, 4), at(2), 10).reason).toBe('too-old');
    expect(planRecovery(read(9, 1), at(2), 3).reason).toBe('limit');
    for (const bad of [at(6), at(-1), at(1.5), at('2'), at(2, 7), null, 'x']) {
      expect(planRecovery(read(5, 1), bad as unknown as StreamPosition, 10)).toEqual({
        recovered: false,
        reason: 'invalid',
        replay: [],
      });
    }
  });

  it('reads nothing for a position that is not one', () => {
    expect(isStreamPosition({ offset: 0, epoch: '' })).toBe(true);
    expect(readWindow({ offset: -3, epoch: 'e' } as never, 10)).toEqual({ after: 0, limit: 0 });
    expect(readWindow({ offset: 3, epoch: 'e' }, 10)).toEqual({ after: 3, limit: 10 });
  });
});
