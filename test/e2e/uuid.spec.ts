import { describe, expect, it } from 'vitest';
import { flatRandomUuid } from '../../src/util/uuid.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('flatRandomUuid', () => {
  it('gives version 4 UUIDs (RFC 9562 5.4), all different, across refills of its random pool', () => {
    const ids = Array.from({ length: 1000 }, flatRandomUuid);
    for (const id of ids) expect(id).toMatch(V4);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('draws every hex digit in every random position', () => {
    const seen = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) [...flatRandomUuid()].forEach((char, at) => seen[at].add(char));
    const counts = seen.map((chars) => chars.size);
    // dashes, the version digit, and the variant digit (8, 9, a, b); every other position varies fully
    expect(counts).toEqual(
      [...'xxxxxxxx-xxxx-4xxx-vxxx-xxxxxxxxxxxx'].map((c) =>
        c === '-' || c === '4' ? 1 : c === 'v' ? 4 : 16,
      ),
    );
  });
});
