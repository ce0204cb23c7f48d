// The controller's recent events, in memory only (like the Kubernetes
// event stream, they explain what happened lately; they are not state): a
// ring buffer per resource, bounded per resource and in all. An event equal
// to one already held for the resource (type, reason and message) is not
// stored twice: its count goes up and it moves to the end.
import type { EventInput, WeftEvent } from '../../model/events.js';
import type { Kind } from '../../model/kinds.js';

const EVENTS_PER_RESOURCE = 50;
export const EVENTS_IN_ALL = 5000;

export interface EventQuery {
  kind?: Kind;
  name?: string;
  /** The newest this many (of those that match). */
  limit?: number;
}

interface Held {
  seq: number;
  event: WeftEvent;
}

const keyOf = (kind: Kind, name: string) => `${kind}/${name}`;

/** Told each event as it is recorded (a copy: held events change as repeats count up); must be cheap and must not throw. */
export type EventListener = (event: WeftEvent) => void;

/** Bound as a constant in main.ts (its constructor takes bounds, not services). */
export class EventLog {
  private readonly byResource = new Map<string, Held[]>();
  /** Every store or refresh in order, for evicting the oldest overall; entries whose seq no longer matches are stale. */
  private order: { key: string; seq: number }[] = [];
  private head = 0;
  private total = 0;
  private seq = 0;
  private readonly listeners = new Set<EventListener>();

  constructor(
    private readonly perResource = EVENTS_PER_RESOURCE,
    private readonly inAll = EVENTS_IN_ALL,
  ) {}

  /** Called after every record, repeats included (count and time moved on). Returns an unsubscribe function. */
  onRecord(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  record(input: EventInput): void {
    const time = new Date(input.time ?? Date.now()).toISOString();
    const key = keyOf(input.involved.kind, input.involved.name);
    let list = this.byResource.get(key);
    let recorded: WeftEvent;
    if (!list) {
      list = [];
      this.byResource.set(key, list);
    }
    const seq = ++this.seq;
    const i = list.findIndex((h) => h.event.type === input.type && h.event.reason === input.reason && h.event.message === input.message);
    if (i >= 0) {
      const [same] = list.splice(i, 1) as [Held];
      same.seq = seq;
      same.event.count += 1;
      same.event.time = time;
      list.push(same);
      recorded = same.event;
    } else {
      const event: WeftEvent = { time, firstTime: time, type: input.type, reason: input.reason, message: input.message, involved: { ...input.involved }, count: 1 };
      list.push({ seq, event });
      recorded = event;
      this.total += 1;
      if (list.length > this.perResource) {
        list.shift();
        this.total -= 1;
      }
    }
    this.order.push({ key, seq });
    while (this.total > this.inAll) this.evictOldest();
    // Evictions advance head: drop the consumed prefix too, or order grows with every event ever recorded.
    if (this.order.length - this.head > 2 * this.inAll || this.head > this.inAll) this.compact();
    if (this.listeners.size > 0) {
      for (const l of this.listeners) l({ ...recorded, involved: { ...recorded.involved } });
    }
  }

  /** Oldest first. */
  list(q: EventQuery = {}): WeftEvent[] {
    let held: Held[];
    if (q.kind !== undefined && q.name !== undefined) {
      held = [...(this.byResource.get(keyOf(q.kind, q.name)) ?? [])];
    } else {
      held = [];
      for (const list of this.byResource.values()) {
        for (const h of list) {
          if ((q.kind === undefined || h.event.involved.kind === q.kind) && (q.name === undefined || h.event.involved.name === q.name)) held.push(h);
        }
      }
      held.sort((a, b) => a.seq - b.seq);
    }
    const limited = q.limit !== undefined && held.length > q.limit ? held.slice(held.length - q.limit) : held;
    return limited.map((h) => ({ ...h.event, involved: { ...h.event.involved } }));
  }

  size(): number {
    return this.total;
  }

  private evictOldest(): void {
    while (this.head < this.order.length) {
      const { key, seq } = this.order[this.head++] as { key: string; seq: number };
      const list = this.byResource.get(key);
      const i = list?.findIndex((h) => h.seq === seq) ?? -1;
      if (!list || i < 0) continue; // refreshed since, or already dropped by the per-resource bound
      list.splice(i, 1);
      this.total -= 1;
      if (list.length === 0) this.byResource.delete(key);
      return;
    }
  }

  /** Drop stale entries (refreshed or evicted events): repeats alone would otherwise grow the order forever. */
  private compact(): void {
    const live: { key: string; seq: number }[] = [];
    for (const [key, list] of this.byResource) for (const h of list) live.push({ key, seq: h.seq });
    this.order = live.sort((a, b) => a.seq - b.seq);
    this.head = 0;
  }
}
