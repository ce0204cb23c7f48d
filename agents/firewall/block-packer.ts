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

/**
 * Overlap index of one block: a grid over (address / 256, port / 256). A box
 * is filed under every cell it covers when those are few, else in a short
 * list of wide boxes every query checks. A query looks at the cells it covers
 * (or, if it covers many, at every filed box in range) plus the wide list.
 * Rules are mostly narrow (a host or a subnet, a port or a range), so a check
 * costs about the number of rules sharing its cells, not the block's size.
 */
const ADDR_SHIFT = 8;
const PORT_SHIFT = 8;
const MAX_CELLS = 64;

type Placement = 'free' | 'shadowed' | 'conflict';

function cellRange(box: Box): [number, number, number, number] | undefined {
  const a0 = box[0][0] >>> ADDR_SHIFT;
  const a1 = box[0][1] >>> ADDR_SHIFT;
  const p0 = box[2][0] >>> PORT_SHIFT;
  const p1 = box[2][1] >>> PORT_SHIFT;
  return (a1 - a0 + 1) * (p1 - p0 + 1) > MAX_CELLS ? undefined : [a0, a1, p0, p1];
}

class BlockIndex<T> {
  readonly boxes: Array<PackedBox<T> & { final: boolean }> = [];
  private readonly cells = new Map<number, number[]>();
  private readonly wide: number[] = [];

  /**
   * Where `box` stands against this block: overlapping nothing, entirely
   * inside a final box (boxes in a block are disjoint, so that box is the only
   * one it can overlap), or in conflict. No allocation per call: this runs
   * once per box of every rule on every plan change.
   */
  placement(box: Box): Placement {
    for (const i of this.wide) {
      const r = this.judge(i, box);
      if (r !== 'free') return r;
    }
    const range = cellRange(box);
    if (range) {
      for (let a = range[0]; a <= range[1]; a++) {
        for (let p = range[2]; p <= range[3]; p++) {
          const list = this.cells.get(a * 256 + p);
          if (!list) continue;
          for (const i of list) {
            const r = this.judge(i, box);
            if (r !== 'free') return r;
          }
        }
      }
    } else {
      for (const list of this.cells.values()) {
        for (const i of list) {
          const r = this.judge(i, box);
          if (r !== 'free') return r;
        }
      }
    }
    return 'free';
  }

  private judge(i: number, box: Box): Placement {
    const other = this.boxes[i] as { box: Box; final: boolean };
    if (!overlaps(other.box, box)) return 'free';
    return other.final && contains(other.box, box) ? 'shadowed' : 'conflict';
  }

  add(box: Box, final: boolean, value: T): void {
    const i = this.boxes.push({ box, final, value }) - 1;
    const range = cellRange(box);
    if (!range) {
      this.wide.push(i);
      return;
    }
    for (let a = range[0]; a <= range[1]; a++) {
      for (let p = range[2]; p <= range[3]; p++) {
        const c = a * 256 + p;
        const list = this.cells.get(c);
        if (list) list.push(i);
        else this.cells.set(c, [i]);
      }
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
    const p = block.placement(box);
    if (p === 'conflict') return undefined;
    if (p === 'free') kept.push(box);
  }
  return kept;
}
