import { diffLines, unifiedDiff } from '../../../model/unified-diff.js';

describe('unifiedDiff', () => {
  test('equal texts give no diff', () => {
    expect(unifiedDiff(['a', 'b'], ['a', 'b'], 'x', 'y')).toBe('');
  });

  test('a new text is all added, from an empty range', () => {
    expect(unifiedDiff([], ['a', 'b'], 'live/n', 'file/n')).toBe('--- live/n\n+++ file/n\n@@ -0,0 +1,2 @@\n+a\n+b\n');
  });

  test('a removed text is all removed', () => {
    expect(unifiedDiff(['a'], [], 'live/n', 'file/n')).toBe('--- live/n\n+++ file/n\n@@ -1 +0,0 @@\n-a\n');
  });

  test('one changed line keeps three lines of context on each side', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9'];
    const b = ['1', '2', '3', '4', 'five', '6', '7', '8', '9'];
    expect(unifiedDiff(a, b, 'a', 'b')).toBe('--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n');
  });

  test('changes far apart make separate hunks; close ones share one', () => {
    const a = Array.from({ length: 20 }, (_, i) => `l${i}`);
    const far = a.map((l, i) => (i === 1 || i === 18 ? `${l}x` : l));
    expect(unifiedDiff(a, far, 'a', 'b').match(/^@@/gm)).toHaveLength(2);
    const near = a.map((l, i) => (i === 5 || i === 10 ? `${l}x` : l));
    expect(unifiedDiff(a, near, 'a', 'b').match(/^@@/gm)).toHaveLength(1);
  });

  test('the edit script keeps the common lines in order', () => {
    const ops = diffLines(['a', 'b', 'c'], ['a', 'c', 'd']);
    expect(ops.map((o) => `${o.kind}${o.line}`)).toEqual([' a', '-b', ' c', '+d']);
  });
});
