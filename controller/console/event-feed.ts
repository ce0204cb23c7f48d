// The recent controller events the events panel shows, newest first. The
// watch sends the recent ones again after every (re)connect, so an event
// seen before is updated in place, not shown twice. Pure.
import type { WeftEvent } from '../../model/events.js';

export const MAX_EVENTS = 200;

/** One event across repeats: the controller counts repeats of the same type, reason and message on one object. */
function eventKey(e: WeftEvent): string {
  return `${e.firstTime}|${e.involved.kind}/${e.involved.name}|${e.type}|${e.reason}|${e.message}`;
}

export class EventFeed {
  private byKey = new Map<string, WeftEvent>();

  /** Returns true when something new or newer was added. */
  add(e: WeftEvent): boolean {
    const key = eventKey(e);
    const old = this.byKey.get(key);
    if (old && old.count >= e.count && old.time >= e.time) return false;
    this.byKey.delete(key); // re-insert: the map's order is arrival order
    this.byKey.set(key, e);
    if (this.byKey.size > MAX_EVENTS) {
      const oldest = this.byKey.keys().next().value;
      if (oldest !== undefined) this.byKey.delete(oldest);
    }
    return true;
  }

  /** Newest first (by the time of its last occurrence). */
  list(): WeftEvent[] {
    return [...this.byKey.values()].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
  }

  clear(): void {
    this.byKey.clear();
  }
}
