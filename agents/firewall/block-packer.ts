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
 * Overlap index of one block, in rows of 256 addresses (address >>> 8). A
 * box whose address span is narrow (at most MAX_CELLS rows) is filed in each
 * of its rows: under each of its port cells (port >>> 8) when the box covers
 * at most MAX_CELLS cells in all, else in the row's list of port-wide boxes
 * (a rule without ports covers all 256 port cells). Only a box covering more
 * than MAX_CELLS rows goes to the list of wide boxes every query checks. A
 * query looks at the wide list and at the rows its addresses cover: their
 * port-wide lists, and the cells it covers there (every cell of the row when
 * it is port-wide itself); a query covering many rows looks at every filed
 * row in its range. Rules are mostly narrow in addresses (a host, a subnet,
 * a set of endpoints), so a check costs about the number of boxes sharing
 * its rows, not the block's size, whatever their ports.
 */
const ADDR_SHIFT = 8;
const PORT_SHIFT = 8;
const MAX_CELLS = 64;

type Placement = 'free' | 'shadowed' | 'conflict';

interface Row {
  /** port cell -> boxes covering it */
  cells: Map<number, number[]>;
  /** boxes covering this row's addresses over more port cells than the grid takes */
  portWide: number[];
}

/** The rows and port cells a box covers, and whether it is filed per cell (few cells) or per row. */
function spanOf(box: Box): { a0: number; a1: number; p0: number; p1: number; perCell: boolean } {
  const a0 = box[0][0] >>> ADDR_SHIFT;
  const a1 = box[0][1] >>> ADDR_SHIFT;
  const p0 = box[2][0] >>> PORT_SHIFT;
  const p1 = box[2][1] >>> PORT_SHIFT;
  return { a0, a1, p0, p1, perCell: (a1 - a0 + 1) * (p1 - p0 + 1) <= MAX_CELLS };
}

class BlockIndex<T> {
  readonly boxes: Array<PackedBox<T> & { final: boolean }> = [];
  private readonly rows = new Map<number, Row>();
  private readonly wide: number[] = [];

  /**
   * Where `box` stands against this block: overlapping nothing, entirely
   * inside a final box (boxes in a block are disjoint, so that box is the only
   * one it can overlap), or in conflict. Any overlapping box decides, so the
   * order boxes are looked at in (and looking at one twice) does not matter.
   * This runs once per box of every rule on every plan change.
   */
  placement(box: Box): Placement {
    const r = this.scan(this.wide, box);
    if (r !== 'free') return r;
    const { a0, a1, p0, p1, perCell } = spanOf(box);
    if (a1 - a0 + 1 > MAX_CELLS) {
      for (const [a, row] of this.rows) {
        if (a < a0 || a > a1) continue; // no address in common
        const r = this.scanRow(row, box);
        if (r !== 'free') return r;
      }
      return 'free';
    }
    for (let a = a0; a <= a1; a++) {
      const row = this.rows.get(a);
      if (!row) continue;
      const r = this.scan(row.portWide, box);
      if (r !== 'free') return r;
      if (perCell) {
        for (let p = p0; p <= p1; p++) {
          const list = row.cells.get(p);
          if (!list) continue;
          const r = this.scan(list, box);
          if (r !== 'free') return r;
        }
      } else {
        for (const list of row.cells.values()) {
          const r = this.scan(list, box);
          if (r !== 'free') return r;
        }
      }
    }
    return 'free';
  }

  private scanRow(row: Row, box: Box): Placement {
    const r = this.scan(row.portWide, box);
    if (r !== 'free') return r;
    for (const list of row.cells.values()) {
      const r = this.scan(list, box);
      if (r !== 'free') return r;
    }
    return 'free';
  }

  private scan(list: readonly number[], box: Box): Placement {
    for (const i of list) {
      const r = this.judge(i, box);
      if (r !== 'free') return r;
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
    const { a0, a1, p0, p1, perCell } = spanOf(box);
    if (a1 - a0 + 1 > MAX_CELLS) {
      this.wide.push(i);
      return;
    }
    for (let a = a0; a <= a1; a++) {
      let row = this.rows.get(a);
      if (!row) {
        row = { cells: new Map(), portWide: [] };
        this.rows.set(a, row);
      }
      if (!perCell) {
        row.portWide.push(i);
        continue;
      }
      for (let p = p0; p <= p1; p++) {
        const list = row.cells.get(p);
        if (list) list.push(i);
        else row.cells.set(p, [i]);
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
