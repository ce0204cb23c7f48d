// Packs an ordered rule list into as few lookups as first-match order allows.
//
// One nftables interval map finds the one element containing a packet's key,
// so a map can only hold boxes that do not overlap (the kernel refuses an
// overlapping element with EEXIST). Within a map whose boxes are disjoint the
// order of the rules does not matter: at most one of them can match. So the
// rules go, in order, into the current block until one of them overlaps a box
// already there; then a new block (another map, looked up after the first)
// starts. A packet that matches a rule in block k matched nothing in earlier
// blocks (or it would have been decided there) and nothing else in block k.
//
// A box that lies entirely inside an earlier box of the current block with a
// final verdict can never be reached and is left out instead of forcing a new
// block (the common case: two rules naming the same endpoint and port).
// `log` boxes are not final (logging goes on to the next block), so nothing
// is ever left out because of them.
//
// Per-packet cost is the number of blocks, not of rules: an allow-only
// policy (what security groups and NetworkPolicy are) is one lookup whatever
// its size.
import { contains, overlaps, type Box } from './rule-boxes.js';

export interface PackItem<T> {
  boxes: readonly Box[];
  /** false for rules that let evaluation go on (log) */
  final: boolean;
  value: T;
}

export interface PackedBox<T> {
  box: Box;
  value: T;
}

/** Overlap index of one block: single addresses hashed, address ranges in a list. */
class BlockIndex<T> {
  readonly boxes: Array<PackedBox<T> & { final: boolean }> = [];
  private readonly byAddress = new Map<number, number[]>();
  private readonly ranges: number[] = [];

  /** Indexes of boxes overlapping `box`. */
  overlapping(box: Box): number[] {
    const hits: number[] = [];
    const check = (i: number) => {
      if (overlaps((this.boxes[i] as PackedBox<T>).box, box)) hits.push(i);
    };
    for (const i of this.ranges) check(i);
    const [lo, hi] = box[0];
    if (lo === hi) {
      for (const i of this.byAddress.get(lo) ?? []) check(i);
    } else if (hi - lo < this.byAddress.size) {
      for (let a = lo; a <= hi; a++) for (const i of this.byAddress.get(a) ?? []) check(i);
    } else {
      for (const [a, list] of this.byAddress) if (a >= lo && a <= hi) for (const i of list) check(i);
    }
    return hits;
  }

  add(box: Box, final: boolean, value: T): void {
    const i = this.boxes.push({ box, final, value }) - 1;
    const [lo, hi] = box[0];
    if (lo === hi) {
      const list = this.byAddress.get(lo);
      if (list) list.push(i);
      else this.byAddress.set(lo, [i]);
    } else {
      this.ranges.push(i);
    }
  }
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
  if (current.boxes.length > 0 || blocks.length === 0) blocks.push(current);
  return blocks.filter((b) => b.boxes.length > 0).map((b) => b.boxes.map(({ box, value }) => ({ box, value })));
}

/** The item's boxes this block can take, or undefined when one of them conflicts. */
function placeIn<T>(block: BlockIndex<T>, item: PackItem<T>): Box[] | undefined {
  const kept: Box[] = [];
  for (const box of item.boxes) {
    const hits = block.overlapping(box);
    if (hits.length === 0) {
      kept.push(box);
      continue;
    }
    const shadowed = hits.some((i) => {
      const other = block.boxes[i] as { box: Box; final: boolean };
      return other.final && contains(other.box, box);
    });
    // Shadowed only if no non-final box overlaps it: a log box in between must still see the packet.
    const logInTheWay = hits.some((i) => !(block.boxes[i] as { final: boolean }).final);
    if (shadowed && !logInTheWay) continue;
    return undefined;
  }
  return kept;
}
