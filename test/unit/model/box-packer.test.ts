// First-match order kept by packing: rules share a lookup only when no two
// of their boxes overlap; shadowed boxes are dropped, log boxes never shadow.
// Checked case by case with three fields (the FirewallPolicy table's boxes)
// and four (the Firewall VNF's), against a brute-force first-match
// evaluator on random rules (packed afresh, and edited in place rule by
// rule), and at a scale the overlap index must handle.
import { contains, overlaps, Packing, packBlocks, type Box, type PackedBox, type PackItem } from '../../../model/box-packer.js';
import { ANY_ADDRESS, ANY_PORT, ANY_PROTOCOL, mergeIntervals, type Interval } from '../../../model/rule-intervals.js';

const TCP = [6, 6] as const;
const box = (addr: [number, number], port: readonly [number, number] = ANY_PORT, proto: readonly [number, number] = TCP): Box => [addr, proto, port];
const item = (value: string, boxes: Box[], final = true): PackItem<string> => ({ boxes, final, value });
const values = (blocks: ReturnType<typeof packBlocks<string>>) => blocks.map((b) => b.map((x) => x.value));

describe('packBlocks', () => {
  test('disjoint rules of any action share one lookup', () => {
    const blocks = packBlocks([item('a', [box([1, 1], [80, 80])]), item('b', [box([1, 1], [81, 81])]), item('c', [box([2, 2], [80, 80])])]);
    expect(values(blocks)).toEqual([['a', 'b', 'c']]);
  });

  test('10,000 distinct peers stay one lookup', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => item(String(i), [box([i, i], [80, 80])]));
    expect(packBlocks(items)).toHaveLength(1);
  });

  test('a later rule overlapping an earlier one starts a new lookup after it', () => {
    const blocks = packBlocks([item('deny-one', [box([5, 5], [443, 443])]), item('allow-range', [box([0, 255])]), item('other', [box([300, 300])])]);
    expect(values(blocks)).toEqual([['deny-one'], ['allow-range', 'other']]);
  });

  test('a box inside an earlier final box of the same lookup is unreachable and left out', () => {
    const blocks = packBlocks([item('wide', [box([0, 255])]), item('narrow', [box([7, 7], [80, 80])])]);
    expect(values(blocks)).toEqual([['wide']]);
  });

  test('a log box never shadows: the rule after it gets its own lookup', () => {
    const blocks = packBlocks([item('log', [box([0, 255])], false), item('allow', [box([7, 7], [80, 80])])]);
    expect(values(blocks)).toEqual([['log'], ['allow']]);
  });

  test('an empty rule list packs to no lookups', () => {
    expect(packBlocks([])).toEqual([]);
  });
});

describe('packBlocks with four fields', () => {
  const item4 = (boxes: Box[], value: string, final = true): PackItem<string> => ({ boxes, value, final });
  const a: Box = [[1, 1], [10, 20], [6, 6], [80, 80]];
  const b: Box = [[1, 1], [15, 15], [6, 6], [80, 80]];
  const c: Box = [[1, 1], [30, 40], [6, 6], [80, 80]];

  test('overlap needs every field to overlap; containment every field to be inside', () => {
    expect(overlaps(a, b)).toBe(true);
    expect(overlaps(a, c)).toBe(false);
    expect(contains(a, b)).toBe(true);
    expect(contains(b, a)).toBe(false);
  });

  test('disjoint rules share one block; an overlapping one starts the next; a shadowed box is left out', () => {
    expect(packBlocks([item4([a], 'A'), item4([c], 'C')]).map((blk) => blk.map((x) => x.value))).toEqual([['A', 'C']]);
    // b lies inside a, a final rule before it: it can never match, and needs no block of its own
    expect(packBlocks([item4([a], 'A'), item4([b], 'B')]).map((blk) => blk.map((x) => x.value))).toEqual([['A']]);
    // a inside b's block but not contained: the next block, looked up after the first
    expect(packBlocks([item4([b], 'B'), item4([a], 'A')]).map((blk) => blk.map((x) => x.value))).toEqual([['B'], ['A']]);
    // behind a log box nothing is shadowed: the log must still see the packet and the next rule decide
    expect(packBlocks([item4([a], 'L', false), item4([b], 'B')]).map((blk) => blk.map((x) => x.value))).toEqual([['L'], ['B']]);
  });
});

/** mulberry32: a seeded generator, so a failure can be replayed. */
function random(seed: number): (n: number) => number {
  let t = seed >>> 0;
  return (n) => {
    t = (t + 0x6d2b79f5) >>> 0;
    let x = Math.imul(t ^ (t >>> 15), 1 | t);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return Math.floor((((x ^ (x >>> 14)) >>> 0) / 2 ** 32) * n);
  };
}

const inside = (b: Box, pt: readonly number[]) => b.every(([lo, hi], i) => (pt[i] as number) >= lo && (pt[i] as number) <= hi);

/** What a packet meets in plain rule order: the log rules it passes, then the first final rule that matches (none: the default). */
function bruteForce(items: readonly PackItem<number>[], pt: readonly number[]): { logged: number[]; decided?: number } {
  const logged: number[] = [];
  for (const it of items) {
    if (!it.boxes.some((b) => inside(b, pt))) continue;
    if (!it.final) logged.push(it.value);
    else return { logged, decided: it.value };
  }
  return { logged };
}

/** The same through the packed blocks, looked up in order, each holding at most one box containing the packet. */
function throughBlocks(items: readonly PackItem<number>[], blocks: PackedBox<number>[][], pt: readonly number[]): { logged: number[]; decided?: number } {
  const logged: number[] = [];
  for (const block of blocks) {
    const hits = block.filter((x) => inside(x.box, pt));
    if (hits.length > 1) throw new Error(`a block holds ${hits.length} boxes containing ${pt.join(',')}: an interval map refuses that`);
    const hit = hits[0];
    if (!hit) continue;
    if (!(items[hit.value] as PackItem<number>).final) logged.push(hit.value);
    else return { logged, decided: hit.value };
  }
  return { logged };
}

/**
 * A random rule: merged address and port intervals crossed, as ruleBoxes
 * makes them. Their ends are drawn (give or take one) from a few values per
 * trial, so that boxes meet edge to edge, nest and overlap in every way, and
 * span from one address to more rows than the index files a box in.
 */
function randomItem(rnd: (n: number) => number, values: { addrs: readonly number[]; ports: readonly number[] }, value: number): PackItem<number> {
  const span = (ends: readonly number[], all: Interval, oddsOfAll: number) => (): Interval => {
    if (rnd(oddsOfAll) === 0) return all;
    const near = () => Math.max(0, (ends[rnd(ends.length)] as number) + rnd(3) - 1);
    const x = near();
    const y = rnd(3) === 0 ? x : near();
    return [Math.min(x, y), Math.max(x, y)];
  };
  const protocol = ([[6, 6], [17, 17], ANY_PROTOCOL] as const)[rnd(3)] as Interval;
  const addrs = mergeIntervals(Array.from({ length: 1 + rnd(4) }, span(values.addrs, ANY_ADDRESS, 12)));
  const ports = mergeIntervals(Array.from({ length: 1 + rnd(3) }, span(values.ports, ANY_PORT, 3)));
  return { boxes: addrs.flatMap((a) => ports.map((p): Box => [a, protocol, p])), final: rnd(5) !== 0, value };
}

describe('packBlocks against a brute-force first-match evaluator', () => {
  test('random rule lists: every packet meets the same log rules and the same deciding rule, and no block holds overlapping boxes', () => {
    let mismatches = 0;
    let decided = 0;
    for (let trial = 0; trial < 150; trial++) {
      const rnd = random(trial + 1);
      const values = { addrs: Array.from({ length: 8 + rnd(40) }, () => rnd(1 << 16)), ports: Array.from({ length: 4 + rnd(8) }, () => rnd(4096)) };
      const items = Array.from({ length: 10 + rnd(60) }, (_, i) => randomItem(rnd, values, i));
      const blocks = packBlocks(items);
      for (const block of blocks) {
        for (let i = 0; i < block.length; i++) {
          for (let j = i + 1; j < block.length; j++) expect(overlaps((block[i] as PackedBox<number>).box, (block[j] as PackedBox<number>).box)).toBe(false);
        }
      }
      for (let k = 0; k < 400; k++) {
        // Half the packets inside a random rule's box, so that most rules are hit; half anywhere near them.
        const it = items[rnd(items.length)] as PackItem<number>;
        const b = it.boxes[rnd(it.boxes.length)] as Box;
        const pt = k % 2 === 0 ? b.map(([lo, hi]) => lo + rnd(Math.min(hi - lo + 1, 2 ** 31))) : [rnd(1 << 16), [6, 17, 1][rnd(3)] as number, rnd(4200)];
        const want = bruteForce(items, pt);
        const got = throughBlocks(items, blocks, pt);
        if (want.decided !== undefined) decided++;
        if (JSON.stringify(got) !== JSON.stringify(want)) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
    expect(decided).toBeGreaterThan(10_000); // the packets did meet rules
  });
});

/** The blocks of `packing`, each checked to hold no two overlapping boxes. */
function disjointBlocks(packing: Packing<number>): PackedBox<number>[][] {
  const blocks = Array.from({ length: packing.blockCount }, (_, b) => packing.block(b));
  for (const block of blocks) {
    for (let i = 0; i < block.length; i++) {
      for (let j = i + 1; j < block.length; j++) expect(overlaps((block[i] as PackedBox<number>).box, (block[j] as PackedBox<number>).box)).toBe(false);
    }
  }
  return blocks;
}

describe('Packing.update: rules edited in place', () => {
  test('a rule moved to a port nothing else uses keeps its block; the edit says what left and what came', () => {
    const items = [item('a', [box([1, 1], [80, 80])]), item('b', [box([2, 2], [80, 80])]), item('c', [box([3, 3], [80, 80])])];
    const packing = Packing.of(items);
    const moved = [items[0]!, item('b2', [box([2, 2], [8080, 8080])]), items[2]!];
    const edits = packing.update(moved);
    expect(edits).toEqual([{ block: 0, removed: [box([2, 2], [80, 80])], added: [{ box: box([2, 2], [8080, 8080]), value: 'b2' }] }]);
    expect(values([packing.block(0)])).toEqual([['a', 'c', 'b2']]);
    expect(packing.update(moved)).toEqual([]); // the same list again: nothing to do
  });

  test('refused (pack afresh) when the new boxes overlap the block, when the old rule hid a later box, or when rules were added', () => {
    const items = [item('a', [box([1, 1], [80, 80])]), item('b', [box([2, 2], [80, 80])])];
    expect(Packing.of(items).update([items[0]!, item('b2', [box([1, 1], [80, 80])])])).toBeUndefined();
    const hiding = [item('wide', [box([0, 9])]), item('inside', [box([5, 5], [22, 22])])];
    expect(packBlocks(hiding).map((b) => b.length)).toEqual([1]); // 'inside' is hidden by 'wide'
    expect(Packing.of(hiding).update([item('narrow', [box([0, 1])]), hiding[1]!])).toBeUndefined();
    expect(Packing.of(items).update([...items, item('c', [box([3, 3])])])).toBeUndefined();
  });

  test('random edits, one rule at a time, applied in place or packed afresh: always what first match says, blocks always disjoint', () => {
    let mismatches = 0;
    let inPlace = 0;
    let afresh = 0;
    for (let trial = 0; trial < 60; trial++) {
      const rnd = random(1000 + trial);
      const values = { addrs: Array.from({ length: 20 + rnd(40) }, () => rnd(1 << 16)), ports: Array.from({ length: 8 + rnd(8) }, () => rnd(4096)) };
      let items = Array.from({ length: 20 + rnd(60) }, (_, i) => randomItem(rnd, values, i));
      let packing = Packing.of(items);
      for (let edit = 0; edit < 15; edit++) {
        const k = rnd(items.length);
        items = items.map((it, i) => (i === k ? randomItem(rnd, values, k) : it));
        if (packing.update(items) === undefined) {
          packing = Packing.of(items);
          afresh++;
        } else {
          inPlace++;
        }
        const blocks = disjointBlocks(packing);
        for (let n = 0; n < 100; n++) {
          const it = items[rnd(items.length)] as PackItem<number>;
          const b = it.boxes[rnd(it.boxes.length)] as Box;
          const pt = n % 2 === 0 ? b.map(([lo, hi]) => lo + rnd(Math.min(hi - lo + 1, 2 ** 31))) : [rnd(1 << 16), [6, 17, 1][rnd(3)] as number, rnd(4200)];
          if (JSON.stringify(throughBlocks(items, blocks, pt)) !== JSON.stringify(bruteForce(items, pt))) mismatches++;
        }
      }
    }
    expect(mismatches).toBe(0);
    // Both paths were taken many times (random rules overlap often).
    expect(inPlace).toBeGreaterThan(50);
    expect(afresh).toBeGreaterThan(50);
  });
});

describe('packBlocks at scale', () => {
  test('2,000 rules of 50 addresses each on every port (the port-wide case) pack into one lookup with every box', () => {
    const items = Array.from({ length: 2_000 }, (_, i) =>
      item(
        String(i),
        Array.from({ length: 50 }, (_, j) => {
          const a = 0x0a000000 + i * 97 + j * 200_003; // distinct over all rules, spread over many /24s
          return box([a, a]);
        }),
      ),
    );
    const blocks = packBlocks(items);
    expect(blocks.map((b) => b.length)).toEqual([100_000]);
  });

  test('among port-wide rules, a later rule overlapping one of them gets a lookup of its own, and one inside an earlier one is left out', () => {
    const items = Array.from({ length: 2_000 }, (_, i) => item(String(i), [box([i * 300, i * 300]), box([i * 300 + 1, i * 300 + 1])]));
    const at = 1_500 * 300;
    const blocks = packBlocks([...items, item('inside', [box([at, at], [22, 22])]), item('across', [box([at, at + 2], [22, 22])])]);
    expect(values(blocks).map((b) => b.length)).toEqual([4_000, 1]);
    expect(values(blocks)[1]).toEqual(['across']);
  });
});
