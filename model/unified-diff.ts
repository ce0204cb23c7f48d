// A unified diff of two short texts (the YAML of one resource), as
// `diff -u` prints it: `--- from` / `+++ to` headers, then hunks with three
// lines of context. Pure; the inputs are a few dozen lines, so a plain
// longest-common-subsequence table is fast enough and easy to trust.

type Op = { kind: ' ' | '-' | '+'; line: string };

/** The edit script turning a into b: kept, removed and added lines in order. */
export function diffLines(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs(i, j): length of the longest common subsequence of a[i..] and b[j..].
  const table = new Int32Array((n + 1) * (m + 1));
  const lcs = (i: number, j: number): number => table[i * (m + 1) + j] as number;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * (m + 1) + j] = a[i] === b[j] ? lcs(i + 1, j + 1) + 1 : Math.max(lcs(i + 1, j), lcs(i, j + 1));
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i++] as string });
      j++;
    } else if (lcs(i + 1, j) >= lcs(i, j + 1)) {
      ops.push({ kind: '-', line: a[i++] as string });
    } else {
      ops.push({ kind: '+', line: b[j++] as string });
    }
  }
  while (i < n) ops.push({ kind: '-', line: a[i++] as string });
  while (j < m) ops.push({ kind: '+', line: b[j++] as string });
  return ops;
}

/** A hunk range as GNU diff -u writes it: `start,count`, `start` alone for one line, an empty side one line earlier. */
function range(start: number, count: number): string {
  if (count === 0) return `${start},0`;
  return count === 1 ? `${start + 1}` : `${start + 1},${count}`;
}

/** The unified diff of a and b, or '' when they are equal. */
export function unifiedDiff(a: string[], b: string[], from: string, to: string, context = 3): string {
  const ops = diffLines(a, b);
  const changed = ops.map((o, k) => (o.kind === ' ' ? -1 : k)).filter((k) => k >= 0);
  if (changed.length === 0) return '';

  // Group changes whose context windows touch into one hunk.
  const hunks: Array<[number, number]> = [];
  for (const k of changed) {
    const lo = Math.max(0, k - context);
    const hi = Math.min(ops.length - 1, k + context);
    const last = hunks[hunks.length - 1];
    if (last && lo <= last[1] + 1) last[1] = hi;
    else hunks.push([lo, hi]);
  }

  const out = [`--- ${from}`, `+++ ${to}`];
  // Line numbers in a and b where each op starts.
  const posA: number[] = [];
  const posB: number[] = [];
  let na = 0;
  let nb = 0;
  for (const o of ops) {
    posA.push(na);
    posB.push(nb);
    if (o.kind !== '+') na++;
    if (o.kind !== '-') nb++;
  }
  for (const [lo, hi] of hunks) {
    const slice = ops.slice(lo, hi + 1);
    const countA = slice.filter((o) => o.kind !== '+').length;
    const countB = slice.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${range(posA[lo] as number, countA)} +${range(posB[lo] as number, countB)} @@`);
    for (const o of slice) out.push(`${o.kind}${o.line}`);
  }
  return `${out.join('\n')}\n`;
}
