// Redraws, batched: a view asks for a redraw of its part, and all parts
// asked for are drawn together at most once per interval, in an animation
// frame. The watch can bring dozens of changes a second (an attach storm,
// every host's heartbeat, the 50 recent events after a reconnect), and
// redrawing for each would keep a core busy on the machine that may also
// run the controller and an agent. A request waits at most the interval.
// The timers are injected, so tests drive it without a browser.

export interface RenderTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  /** requestAnimationFrame in the browser. */
  frame(fn: () => void): void;
  now(): number;
}

const browserTimers: RenderTimers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  // Typed by hand: the unit tests compile this module without the DOM library.
  frame: (fn) => (globalThis as unknown as { requestAnimationFrame(cb: () => void): number }).requestAnimationFrame(() => fn()),
  now: () => performance.now(),
};

export class RenderBatcher<Part extends string> {
  private readonly dirty = new Set<Part>();
  private queued = false;
  private lastFlush = -Infinity;

  /** `draw` draws one part; parts are drawn in the order of its keys. */
  constructor(
    private readonly draw: Record<Part, () => void>,
    private readonly intervalMs: number,
    private readonly timers: RenderTimers = browserTimers,
  ) {}

  /** Draw `part` soon: at the next flush, which comes at most `intervalMs` after the last one. */
  request(part: Part): void {
    this.dirty.add(part);
    if (this.queued) return;
    this.queued = true;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - this.timers.now());
    this.timers.setTimeout(() => this.timers.frame(() => this.flush()), wait);
  }

  private flush(): void {
    this.queued = false;
    this.lastFlush = this.timers.now();
    const parts = (Object.keys(this.draw) as Part[]).filter((p) => this.dirty.has(p));
    this.dirty.clear();
    for (const p of parts) this.draw[p]();
  }
}
