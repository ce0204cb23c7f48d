import { ChangeRing } from '../../../../controller/watch/change-ring.js';

const filled = (capacity: number, n: number) => {
  const ring = new ChangeRing<string>(capacity);
  for (let i = 0; i < n; i++) ring.append((seq) => `c${seq}`);
  return ring;
};

describe('ChangeRing', () => {
  test.each([
    { name: 'from the start', capacity: 5, n: 3, after: 0, want: ['c1', 'c2', 'c3'] },
    { name: 'from the middle', capacity: 5, n: 3, after: 1, want: ['c2', 'c3'] },
    { name: 'from the newest: nothing', capacity: 5, n: 3, after: 3, want: [] },
    { name: 'ahead of the newest: cannot', capacity: 5, n: 3, after: 4, want: undefined },
    { name: 'wrapped: the oldest held is after the floor', capacity: 3, n: 7, after: 4, want: ['c5', 'c6', 'c7'] },
    { name: 'wrapped: one before the floor is gone', capacity: 3, n: 7, after: 3, want: undefined },
    { name: 'not an integer', capacity: 3, n: 2, after: 0.5, want: undefined },
  ])('after(): $name', ({ capacity, n, after, want }) => {
    expect(filled(capacity, n).after(after)).toEqual(want);
  });

  test('restart forgets every change and skips a seq, so no earlier position resumes', () => {
    const ring = filled(5, 3);
    ring.restart();
    expect(ring.size).toBe(0);
    expect(ring.last).toBe(4);
    expect(ring.floor).toBe(4);
    expect(ring.after(3)).toBeUndefined();
    expect(ring.after(4)).toEqual([]);
    ring.append((seq) => `c${seq}`);
    expect(ring.after(4)).toEqual(['c5']);
  });

  test('refuses a capacity that holds nothing', () => {
    expect(() => new ChangeRing(0)).toThrow(/positive integer/);
  });
});
