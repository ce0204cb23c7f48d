// Packs an ordered rule list into as few interval-map lookups as first-match
// order allows; the algorithm of agents/firewall/block-packer.ts for boxes
// of any number of fields (the perimeter firewall's have four).
//
// One nftables interval map finds the one element containing a packet's key,
// so a map can only hold boxes that do not overlap. Within such a map the
// order of the rules does not matter: at most one of them can match. So the
// rules go, in order, into the current block until one overlaps a box
// already there; then a new block (another map, looked up after the first)
// starts. A box entirely inside an earlier final box of the current block
// can never be reached and is left out instead of forcing a new block,
// unless a non-final (log) box that must still see the packet overlaps it.
//
// Per-packet cost is the number of blocks, not of rules: an allow-only rule
// list is one lookup whatever its size.
import type { Interval } from './perimeter-boxes.js';

export type NBox = readonly Interval[];

export interface PackItem<T> {
  boxes: readonly NBox[];
  /** false for rules that let evaluation go on (log) */
  final: boolean;
  value: T;
}

export interface PackedBox<T> {
  box: NBox;
  value: T;
}

export function overlaps(a: NBox, b: NBox): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Interval;
    const y = b[i] as Interval;
    if (x[1] < y[0] || y[1] < x[0]) return false;
  }
  return true;
}

export function contains(outer: NBox, inner: NBox): boolean {
  for (let i = 0; i < outer.length; i++) {
    const x = outer[i] as Interval;
    const y = inner[i] as Interval;
    if (y[0] < x[0] || y[1] > x[1]) return false;
  }
  return true;
}

/** Overlap index of one block: boxes with a single value in field 0 hashed by it, the others in a list. */
class BlockIndex<T> {
  readonly boxes: Array<PackedBox<T> & { final: boolean }> = [];
  private readonly bySingle = new Map<number, number[]>();
  private readonly ranges: number[] = [];

  overlapping(box: NBox): number[] {
    const hits: number[] = [];
    const check = (i: number) => {
      if (overlaps((this.boxes[i] as PackedBox<T>).box, box)) hits.push(i);
    };
    for (const i of this.ranges) check(i);
    const [lo, hi] = box[0] as Interval;
    if (lo === hi) {
      for (const i of this.bySingle.get(lo) ?? []) check(i);
    } else if (hi - lo < this.bySingle.size) {
      for (let a = lo; a <= hi; a++) for (const i of this.bySingle.get(a) ?? []) check(i);
    } else {
      for (const [a, list] of this.bySingle) if (a >= lo && a <= hi) for (const i of list) check(i);
    }
    return hits;
  }

  add(box: NBox, final: boolean, value: T): void {
    const i = this.boxes.push({ box, final, value }) - 1;
    const [lo, hi] = box[0] as Interval;
    if (lo === hi) {
      const list = this.bySingle.get(lo);
      if (list) list.push(i);
      else this.bySingle.set(lo, [i]);
    } else {
      this.ranges.push(i);
    }
  }
}

/** The item's boxes this block can take, or undefined when one of them conflicts. */
function placeIn<T>(block: BlockIndex<T>, item: PackItem<T>): NBox[] | undefined {
  const kept: NBox[] = [];
  for (const box of item.boxes) {
    const hits = block.overlapping(box);
    if (hits.length === 0) {
      kept.push(box);
      continue;
    }
    const shadowed = hits.some((i) => {
      const other = block.boxes[i] as { box: NBox; final: boolean };
      return other.final && contains(other.box, box);
    });
    const logInTheWay = hits.some((i) => !(block.boxes[i] as { final: boolean }).final);
    if (shadowed && !logInTheWay) continue;
    return undefined;
  }
  return kept;
}

export function packBlocks<T>(items: readonly PackItem<T>[]): PackedBox<T>[][] {
  const blocks: BlockIndex<T>[] = [];
  let current = new BlockIndex<T>();
  for (const item of items) {
    let kept = placeIn(current, item);
    if (kept === undefined) {
      blocks.push(current);
      current = new BlockIndex<T>();
      kept = placeIn(current, item) ?? [];
    }
    for (const box of kept) current.add(box, item.final, item.value);
  }
  blocks.push(current);
  return blocks.filter((b) => b.boxes.length > 0).map((b) => b.boxes.map(({ box, value }) => ({ box, value })));
}
