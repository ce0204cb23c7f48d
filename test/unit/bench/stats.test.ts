import { medianShift } from '../../bench/stats.js';

/** `n` rounds of `per` samples around `centre`, each round offset a little (rounds differ, as on a busy machine). */
function rounds(centre: number, n: number, per: number, seed: number): number[][] {
  let s = seed;
  const next = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  return Array.from({ length: n }, () => {
    const offset = (next() - 0.5) * 0.2 * centre;
    return Array.from({ length: per }, () => centre + offset + (next() - 0.5) * 0.3 * centre);
  });
}

describe('medianShift', () => {
  test('two sets of rounds of the same thing: a small shift, and an interval that holds 0', () => {
    const r = medianShift(rounds(10, 8, 15, 3), rounds(10, 8, 15, 4));
    expect(Math.abs(r.shift)).toBeLessThan(0.1);
    expect(r.interval.low).toBeLessThanOrEqual(0);
    expect(r.interval.high).toBeGreaterThanOrEqual(0);
    expect(r.interval.low).toBeLessThanOrEqual(r.shift);
    expect(r.interval.high).toBeGreaterThanOrEqual(r.shift);
  });

  test('a real 50% shift: found, with an interval that leaves out 0', () => {
    const r = medianShift(rounds(15, 8, 15, 5), rounds(10, 8, 15, 6));
    expect(r.shift).toBeGreaterThan(0.35);
    expect(r.interval.low).toBeGreaterThan(0);
  });

  test('the same samples give the same interval (seeded)', () => {
    const a = rounds(12, 6, 10, 7);
    const b = rounds(10, 6, 10, 8);
    expect(medianShift(a, b)).toEqual(medianShift(a, b));
  });

  test('blocks are paired: the two sides must have as many', () => {
    expect(() => medianShift(rounds(10, 3, 5, 1), rounds(10, 4, 5, 2))).toThrow(/3 and 4 blocks/);
  });
});
