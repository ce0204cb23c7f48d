// Where every node of the topology view goes. A grid, computed, never
// simulated: a force layout of 500 endpoints takes seconds and lands
// somewhere else every time, so nobody could learn where things are.
//
//              host h1          host h2
//               ┌───────────┐   ┌───────────┐
//               │ [fw] [rt] │   │           │   <- network functions' band (when any)
//  web  [■] ────│─ o  o  o ─│───│─ o        │   <- one row per network: its
//  db   [■] ────│─ o        │───│─ o  o     │      endpoints on each host
//               └───────────┘   └───────────┘
//
// Hosts are columns (compound nodes), networks are rows with their node at
// the left; an endpoint sits where its host and network cross, so its
// place alone tells both, and the edges to its network run along the row.
//
// Stability: each endpoint keeps a slot within its cell across calls
// (LayoutMemory); a new one takes the lowest free slot and rows never
// shrink while the memory is kept, and a fresh layout leaves a free slot
// in every cell, so one endpoint arriving moves nobody else. Columns and
// rows keep their order; new hosts and networks are appended. Without
// memory the layout depends only on the set of names: deterministic.
// Pure.

import { compareNames } from './names.js';

export interface TopologyInput {
  hosts: string[];
  networks: string[];
  endpoints: Array<{ name: string; host: string; network: string }>;
  /** Network functions (firewalls, routers): drawn in a band above the rows, in their host's column. */
  functions: Array<{ kind: FunctionKind; name: string; host: string; networks: string[] }>;
}

export type FunctionKind = 'firewall' | 'router';
export type PlacedKind = 'host' | 'network' | 'endpoint' | FunctionKind;

export interface PlacedNode {
  id: string;
  kind: PlacedKind;
  /** Name of the object. */
  name: string;
  /** Centre. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** The host column an endpoint or network function sits in. */
  host?: string;
}

export interface LayoutMemory {
  hostOrder: string[];
  networkOrder: string[];
  /** endpoint name -> its cell ("host\nnetwork") and slot in it */
  slots: Map<string, { cell: string; slot: number }>;
  /** network -> slot rows of its row */
  rows: Map<string, number>;
}

export interface TopologyLayout {
  nodes: PlacedNode[];
  memory: LayoutMemory;
  /** Bounding box of everything drawn. */
  bounds: { x1: number; y1: number; x2: number; y2: number };
}

/** Endpoints per line of a cell. */
export const SLOTS_PER_LINE = 3;
/** Wide enough for an address label ("✕ 10.100.12.140") under each endpoint. */
export const SLOT_W = 76;
export const SLOT_H = 48;
export const ENDPOINT_SIZE = 22;
/** A network function's node (firewall, router). */
export const FUNCTION_SIZE = 30;
/** A network's node is small: its name and subnet are drawn to its left, where nothing else is. */
export const NETWORK_W = 34;
export const NETWORK_H = 28;
const CELL_PAD_X = 14;
const COLUMN_W = SLOTS_PER_LINE * SLOT_W + 2 * CELL_PAD_X;
const COLUMN_GAP = 36;
const ROW_GAP = 14;
const BAND_PAD = 10;
const NETWORK_GAP = 30;

export const ids = {
  host: (name: string) => `Host/${name}`,
  network: (name: string) => `Network/${name}`,
  endpoint: (name: string) => `Endpoint/${name}`,
  firewall: (name: string) => `Firewall/${name}`,
  router: (name: string) => `Router/${name}`,
};


/** Previous order, minus the gone, plus the new in name order. */
function keepOrder(previous: string[] | undefined, present: Set<string>): string[] {
  const kept = (previous ?? []).filter((n) => present.has(n));
  const known = new Set(kept);
  return [...kept, ...[...present].filter((n) => !known.has(n)).sort(compareNames)];
}

const cellOf = (host: string, network: string) => `${host}\n${network}`;

export function layoutTopology(input: TopologyInput, memory?: LayoutMemory): TopologyLayout {
  const hostSet = new Set(input.hosts);
  const networkSet = new Set(input.networks);
  // Objects may name a host or network the console does not know (yet): they still get a column or row.
  for (const e of input.endpoints) {
    hostSet.add(e.host);
    networkSet.add(e.network);
  }
  for (const f of input.functions) {
    hostSet.add(f.host);
    for (const n of f.networks) networkSet.add(n);
  }
  const hostOrder = keepOrder(memory?.hostOrder, hostSet);
  const networkOrder = keepOrder(memory?.networkOrder, networkSet);

  // Slots: remembered ones first (when the cell is unchanged), then the rest in name order.
  const endpoints = [...input.endpoints].sort((a, b) => compareNames(a.name, b.name));
  const slots = new Map<string, { cell: string; slot: number }>();
  const taken = new Map<string, Set<number>>();
  const takenIn = (cell: string) => {
    let s = taken.get(cell);
    if (!s) taken.set(cell, (s = new Set()));
    return s;
  };
  const unplaced: typeof endpoints = [];
  for (const e of endpoints) {
    const cell = cellOf(e.host, e.network);
    const old = memory?.slots.get(e.name);
    if (old && old.cell === cell && !takenIn(cell).has(old.slot)) {
      slots.set(e.name, old);
      takenIn(cell).add(old.slot);
    } else {
      unplaced.push(e);
    }
  }
  for (const e of unplaced) {
    const cell = cellOf(e.host, e.network);
    const used = takenIn(cell);
    let slot = 0;
    while (used.has(slot)) slot++;
    used.add(slot);
    slots.set(e.name, { cell, slot });
  }

  // Rows per network: enough for its fullest cell; never fewer than remembered.
  const rows = new Map<string, number>();
  for (const n of networkOrder) {
    let highest = -1;
    let count = 0;
    for (const h of hostOrder) {
      const used = taken.get(cellOf(h, n));
      if (!used) continue;
      count = Math.max(count, used.size);
      for (const s of used) highest = Math.max(highest, s);
    }
    const fits = Math.floor(highest / SLOTS_PER_LINE) + 1;
    const before = memory?.rows.get(n);
    // Fresh: room for one more in the fullest cell. Remembered: grow only when full, then with room again.
    const wanted = before === undefined ? Math.floor(count / SLOTS_PER_LINE) + 1 : fits > before ? fits + 1 : before;
    rows.set(n, Math.max(1, wanted, fits));
  }

  // Per host: firewalls first, then routers, each in name order.
  const functionsByHost = new Map<string, Array<{ kind: FunctionKind; name: string }>>();
  const kindOrder = (k: FunctionKind) => (k === 'firewall' ? 0 : 1);
  for (const f of [...input.functions].sort((a, b) => kindOrder(a.kind) - kindOrder(b.kind) || compareNames(a.name, b.name))) {
    const list = functionsByHost.get(f.host) ?? [];
    list.push({ kind: f.kind, name: f.name });
    functionsByHost.set(f.host, list);
  }
  let bandLines = 0;
  for (const list of functionsByHost.values()) bandLines = Math.max(bandLines, Math.ceil(list.length / SLOTS_PER_LINE));

  const nodes: PlacedNode[] = [];
  const top = 0;
  const bandTop = top + BAND_PAD;
  const rowsTop = bandLines > 0 ? bandTop + bandLines * SLOT_H + BAND_PAD : top + BAND_PAD;
  const rowTop = new Map<string, number>();
  let y = rowsTop;
  for (const n of networkOrder) {
    rowTop.set(n, y);
    y += (rows.get(n) ?? 1) * SLOT_H + ROW_GAP;
  }
  const bottom = Math.max(y, rowsTop + SLOT_H) + BAND_PAD;

  const columnLeft = (i: number) => i * (COLUMN_W + COLUMN_GAP);
  const slotCentre = (left: number, lineTop: number, slot: number) => ({
    x: left + CELL_PAD_X + (slot % SLOTS_PER_LINE) * SLOT_W + SLOT_W / 2,
    // The label goes under the node, so the node sits in the upper part of its slot.
    y: lineTop + ROW_GAP / 2 + Math.floor(slot / SLOTS_PER_LINE) * SLOT_H + SLOT_H / 2 - 6,
  });

  hostOrder.forEach((h, i) => {
    const left = columnLeft(i);
    // The whole column: a box drawn behind what sits in it.
    nodes.push({ id: ids.host(h), kind: 'host', name: h, x: left + COLUMN_W / 2, y: (top + bottom) / 2, width: COLUMN_W, height: bottom - top });
    (functionsByHost.get(h) ?? []).forEach((f, k) => {
      const c = slotCentre(left, bandTop - ROW_GAP / 2, k);
      nodes.push({ id: ids[f.kind](f.name), kind: f.kind, name: f.name, host: h, x: c.x, y: c.y, width: FUNCTION_SIZE, height: FUNCTION_SIZE });
    });
  });

  const networkX = -(NETWORK_GAP + NETWORK_W / 2);
  for (const n of networkOrder) {
    const t = rowTop.get(n) ?? 0;
    // Level with the first line of endpoints, so the edges to them run straight along the row.
    nodes.push({ id: ids.network(n), kind: 'network', name: n, x: networkX, y: t + ROW_GAP / 2 + SLOT_H / 2 - 6, width: NETWORK_W, height: NETWORK_H });
  }

  const column = new Map(hostOrder.map((h, i) => [h, i]));
  for (const e of endpoints) {
    const placed = slots.get(e.name);
    if (!placed) continue;
    const c = slotCentre(columnLeft(column.get(e.host) ?? 0), rowTop.get(e.network) ?? 0, placed.slot);
    nodes.push({ id: ids.endpoint(e.name), kind: 'endpoint', name: e.name, host: e.host, x: c.x, y: c.y, width: ENDPOINT_SIZE, height: ENDPOINT_SIZE });
  }

  const right = hostOrder.length > 0 ? columnLeft(hostOrder.length - 1) + COLUMN_W : 0;
  return {
    nodes,
    memory: { hostOrder, networkOrder, slots, rows },
    bounds: { x1: networkX - NETWORK_W / 2, y1: top, x2: right, y2: bottom },
  };
}
