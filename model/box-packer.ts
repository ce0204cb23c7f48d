// Packs an ordered rule list into as few lookups as first-match order allows.
// One packer for every firewall: the FirewallPolicy table's boxes have three
// fields (peer, protocol, port), the Firewall VNF's four (source,
// destination, protocol, port); rule-intervals.ts makes them. Pure; model/
// so that agents/ and vnf/ share it.
//
// A box is one inclusive interval per packet field, which is what one
// element of an nftables interval map with a concatenated key holds. One
// interval map finds the one element containing a packet's key, so a map
// can only hold boxes that do not overlap (the kernel refuses an
// overlapping element with EEXIST). Within a map whose boxes are disjoint
// the order of the rules does not matter: at most one of them can match. So
// the rules go, in order, into the current block until one of them overlaps
// a box already there; then a new block (another map, looked up after the
// first) starts. A packet that matches a rule in block k matched nothing in
// earlier blocks (or it would have been decided there) and nothing else in
// block k.
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
//
// Editing rules in place (Packing.update): packing 10,000 rules from scratch
// takes ~40 ms, most of a one-rule change. Every block holds a contiguous run
// of rules, so a changed rule can keep its block when its new boxes overlap
// nothing else there: rules in earlier blocks still come before it and rules
// in later blocks after it, whatever its new boxes are. The edit is refused
// (the caller packs from scratch) when a new box overlaps anything in the
// block, when the old rule hid a later box (that box must come back), or
// when the rule count changed.
import type { Interval } from './rule-intervals.js';

/** One inclusive interval per field; every box of one packing has the same fields. */
export type Box = readonly Interval[];

export interface PackItem<T, B extends Box = Box> {
  boxes: readonly B[];
  /** false for rules that let evaluation go on (log) */
  final: boolean;
  value: T;
}

export interface PackedBox<T, B extends Box = Box> {
  box: B;
  value: T;
}

export function overlaps(a: Box, b: Box): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Interval;
    const y = b[i] as Interval;
    if (x[1] < y[0] || y[1] < x[0]) return false;
  }
  return true;
}

export function contains(outer: Box, inner: Box): boolean {
  for (let i = 0; i < outer.length; i++) {
    const x = outer[i] as Interval;
    const y = inner[i] as Interval;
    if (y[0] < x[0] || y[1] > x[1]) return false;
  }
  return true;
}

/** Stable text key of a box, the same for the box weft renders and the one nft lists back. */
const keyCache = new WeakMap<Box, string>();

export function boxKey(b: Box): string {
  let k = keyCache.get(b);
  if (k === undefined) {
    k = '';
    for (const [lo, hi] of b) k += k === '' ? `${lo}-${hi}` : `/${lo}-${hi}`;
    keyCache.set(b, k);
  }
  return k;
}

/**
 * Overlap index of one block, for rule boxes: the first field an address,
 * the last a port (any boxes pack correctly, the index is only fast for
 * these). It files boxes in rows of 256 addresses (address >>> 8). A box
 * whose address span is narrow (at most MAX_CELLS rows) is filed in each
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

/** placement(): overlapping nothing, overlapping in a way no single block can hold, or >= 0: the slot of the final box that contains it */
const FREE = -1;
const CONFLICT = -2;

interface Row {
  /** port cell -> slots of boxes covering it */
  cells: Map<number, number[]>;
  /** boxes covering this row's addresses over more port cells than the grid takes */
  portWide: number[];
}

interface Slot<T, B extends Box> {
  box: B;
  final: boolean;
  value: T;
  /** index of the item the box belongs to */
  item: number;
  /** taken out by an in-place edit (the indexes still list it) */
  removed: boolean;
}

/** The rows and port cells a box covers, and whether it is filed per cell (few cells) or per row. */
function spanOf(box: Box): { a0: number; a1: number; p0: number; p1: number; perCell: boolean } {
  const addr = box[0] as Interval;
  const port = box[box.length - 1] as Interval;
  const a0 = addr[0] >>> ADDR_SHIFT;
  const a1 = addr[1] >>> ADDR_SHIFT;
  const p0 = port[0] >>> PORT_SHIFT;
  const p1 = port[1] >>> PORT_SHIFT;
  return { a0, a1, p0, p1, perCell: (a1 - a0 + 1) * (p1 - p0 + 1) <= MAX_CELLS };
}

class BlockIndex<T, B extends Box> {
  readonly slots: Slot<T, B>[] = [];
  /** slots not removed */
  live = 0;
  private readonly rows = new Map<number, Row>();
  private readonly wide: number[] = [];

  /**
   * Where `box` stands against this block: FREE, the slot of the final box it
   * lies entirely inside (boxes in a block are disjoint, so that box is the
   * only one it can overlap), or CONFLICT. Any overlapping box decides, so the
   * order boxes are looked at in (and looking at one twice) does not matter.
   * This runs once per box of every rule on every plan change.
   */
  placement(box: Box): number {
    const r = this.scan(this.wide, box);
    if (r !== FREE) return r;
    const { a0, a1, p0, p1, perCell } = spanOf(box);
    if (a1 - a0 + 1 > MAX_CELLS) {
      for (const [a, row] of this.rows) {
        if (a < a0 || a > a1) continue; // no address in common
        const r = this.scanRow(row, box);
        if (r !== FREE) return r;
      }
      return FREE;
    }
    for (let a = a0; a <= a1; a++) {
      const row = this.rows.get(a);
      if (!row) continue;
      const r = this.scan(row.portWide, box);
      if (r !== FREE) return r;
      if (perCell) {
        for (let p = p0; p <= p1; p++) {
          const list = row.cells.get(p);
          if (!list) continue;
          const r = this.scan(list, box);
          if (r !== FREE) return r;
        }
      } else {
        for (const list of row.cells.values()) {
          const r = this.scan(list, box);
          if (r !== FREE) return r;
        }
      }
    }
    return FREE;
  }

  private scanRow(row: Row, box: Box): number {
    const r = this.scan(row.portWide, box);
    if (r !== FREE) return r;
    for (const list of row.cells.values()) {
      const r = this.scan(list, box);
      if (r !== FREE) return r;
    }
    return FREE;
  }

  private scan(list: readonly number[], box: Box): number {
    for (const i of list) {
      const r = this.judge(i, box);
      if (r !== FREE) return r;
    }
    return FREE;
  }

  private judge(i: number, box: Box): number {
    const other = this.slots[i] as Slot<T, B>;
    if (other.removed || !overlaps(other.box, box)) return FREE;
    return other.final && contains(other.box, box) ? i : CONFLICT;
  }

  /** File a box; returns its slot. */
  add(box: B, final: boolean, value: T, item: number): number {
    const i = this.slots.push({ box, final, value, item, removed: false }) - 1;
    this.live++;
    const { a0, a1, p0, p1, perCell } = spanOf(box);
    if (a1 - a0 + 1 > MAX_CELLS) {
      this.wide.push(i);
      return i;
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
    return i;
  }

  /** Take a box out; its slot stays listed in the index, skipped from now on. */
  remove(slot: number): Slot<T, B> {
    const s = this.slots[slot] as Slot<T, B>;
    s.removed = true;
    this.live--;
    return s;
  }

  packed(): PackedBox<T, B>[] {
    const out: PackedBox<T, B>[] = [];
    for (const s of this.slots) if (!s.removed) out.push({ box: s.box, value: s.value });
    return out;
  }
}

/** Where one item went: its block, and the slots of its boxes there (none when all were hidden). */
interface Placed {
  block: number;
  slots: number[];
  /** a later item's box was left out because it lies inside one of this item's boxes */
  hides: boolean;
}

/** What an in-place edit changed in one block, in the order to apply it. */
export interface BlockEdit<T, B extends Box = Box> {
  block: number;
  removed: B[];
  added: PackedBox<T, B>[];
}

function sameItem<T, B extends Box>(a: PackItem<T, B>, b: PackItem<T, B>): boolean {
  return a.value === b.value && a.boxes === b.boxes && a.final === b.final;
}

/** A packed rule list that can take later versions of itself (see the header). */
export class Packing<T, B extends Box = Box> {
  private constructor(
    private items: readonly PackItem<T, B>[],
    private readonly blocks: BlockIndex<T, B>[],
    private readonly placed: Placed[],
  ) {}

  /** Pack from scratch, in order. */
  static of<T, B extends Box = Box>(items: readonly PackItem<T, B>[]): Packing<T, B> {
    const blocks: BlockIndex<T, B>[] = [];
    const placed: Placed[] = [];
    let current = new BlockIndex<T, B>();
    items.forEach((item, k) => {
      let kept = placeIn(current, item);
      if (kept === undefined) {
        blocks.push(current);
        current = new BlockIndex<T, B>();
        kept = placeIn(current, item) ?? { free: [], hiders: [] };
      }
      for (const slot of kept.hiders) placed[(current.slots[slot] as Slot<T, B>).item]!.hides = true;
      placed.push({ block: blocks.length, slots: kept.free.map((box) => current.add(box, item.final, item.value, k)), hides: false });
    });
    blocks.push(current);
    return new Packing(items, blocks, placed);
  }

  /** Number of blocks (lookups per packet); the last may be empty only when there are no items. */
  get blockCount(): number {
    return this.blocks.length === 1 && this.blocks[0]!.live === 0 ? 0 : this.blocks.length;
  }

  /** The boxes of block `b`, as they are now. */
  block(b: number): PackedBox<T, B>[] {
    return (this.blocks[b] as BlockIndex<T, B>).packed();
  }

  /**
   * Take `items` (this list with some items replaced) by editing the changed
   * items' blocks in place. Returns what changed per block, or undefined when
   * it cannot be done in place: then this Packing is spent (half edited) and
   * the caller packs from scratch.
   */
  update(items: readonly PackItem<T, B>[]): BlockEdit<T, B>[] | undefined {
    if (items.length !== this.items.length) return undefined;
    const changed: number[] = [];
    items.forEach((item, k) => {
      if (!sameItem(item, this.items[k] as PackItem<T, B>)) changed.push(k);
    });
    // Many edits: packing afresh is about as fast and keeps the blocks tight.
    if (changed.length > Math.max(16, items.length / 8)) return undefined;
    const edits: BlockEdit<T, B>[] = [];
    for (const k of changed) {
      const was = this.placed[k] as Placed;
      if (was.hides) return undefined;
      const block = this.blocks[was.block] as BlockIndex<T, B>;
      const removed = was.slots.map((slot) => block.remove(slot).box);
      const item = items[k] as PackItem<T, B>;
      const slots: number[] = [];
      for (const box of item.boxes) {
        if (block.placement(box) !== FREE) return undefined;
        slots.push(block.add(box, item.final, item.value, k));
      }
      // An emptied block, or indexes mostly of removed boxes: start afresh.
      if (block.live === 0 || block.slots.length > 2 * block.live + 64) return undefined;
      this.placed[k] = { block: was.block, slots, hides: false };
      edits.push({ block: was.block, removed, added: item.boxes.map((box) => ({ box, value: item.value })) });
    }
    this.items = items;
    return edits;
  }
}

/** Pack from scratch: each block's boxes, in order, without empty blocks. */
export function packBlocks<T, B extends Box = Box>(items: readonly PackItem<T, B>[]): PackedBox<T, B>[][] {
  const packing = Packing.of(items);
  return Array.from({ length: packing.blockCount }, (_, b) => packing.block(b));
}

/** The item's boxes this block can take and the slots of the boxes hiding the others, or undefined when one of them conflicts. */
function placeIn<T, B extends Box>(block: BlockIndex<T, B>, item: PackItem<T, B>): { free: B[]; hiders: number[] } | undefined {
  const free: B[] = [];
  const hiders: number[] = [];
  for (const box of item.boxes) {
    const p = block.placement(box);
    if (p === CONFLICT) return undefined;
    if (p === FREE) free.push(box);
    else hiders.push(p);
  }
  return { free, hiders };
}
