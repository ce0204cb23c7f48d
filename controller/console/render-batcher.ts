// Redraws, batched: a view asks for a redraw of its part, and all parts
// asked for are drawn together at most once per interval, in an animation
// frame. The watch can bring dozens of changes a second (an attach storm,
// every host's heartbeat, the 50 recent events after a reconnect), and
// redrawing for each would keep a core busy on the machine that may also
// run the controller and an agent. And as a graph grows, so does what one
// redraw costs (500 endpoints: tens of ms of script and canvas drawing), so
// flushes also keep a distance proportional to their cost, like the
// controller's watch passes: drawing takes at most about 1 / SPACING of a
// core however big the network. A request waits at most the larger of the
// two. The timers are injected, so tests drive it without a browser.

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

/** A flush waits at least this many times the last one's cost after it. */
export const SPACING = 20;
/** Drawing elsewhere this soon after a flush is charged to it. */
export const CHARGE_WINDOW_MS = 100;
/** However costly the last flush, the next waits no longer than this. */
export const MAX_WAIT_MS = 2_000;

export interface RenderBatcherOptions {
  /**
   * Drawing done outside the flush but caused by it, in ms so far (a canvas
   * library that draws in its own animation frames): what it adds within
   * CHARGE_WINDOW_MS of a flush counts as that flush's cost too.
   */
  drawnElsewhereMs?: () => number;
}

export class RenderBatcher<Part extends string> {
  private readonly dirty = new Set<Part>();
  private queued = false;
  private lastFlush = -Infinity;
  /** The last flush's cost, ms: its own time, plus what was drawn elsewhere in the window after it. */
  private lastCost = 0;

  /** `draw` draws one part; parts are drawn in the order of its keys. */
  constructor(
    private readonly draw: Record<Part, () => void>,
    private readonly intervalMs: number,
    private readonly timers: RenderTimers = browserTimers,
    private readonly options: RenderBatcherOptions = {},
  ) {}

  /** Draw `part` soon: at the next flush, `intervalMs` (or SPACING times the last flush's cost, if more) after the last one. */
  request(part: Part): void {
    this.dirty.add(part);
    if (this.queued) return;
    this.queued = true;
    this.schedule();
  }

  /** When the next flush may come. */
  private due(): number {
    return this.lastFlush + Math.min(MAX_WAIT_MS, Math.max(this.intervalMs, SPACING * this.lastCost));
  }

  private schedule(): void {
    this.timers.setTimeout(() => {
      // The last flush's cost may have grown since this was set (its drawing elsewhere came in): wait the rest.
      if (this.timers.now() < this.due()) this.schedule();
      else this.timers.frame(() => this.flush());
    }, Math.max(0, this.due() - this.timers.now()));
  }

  private flush(): void {
    this.queued = false;
    const start = this.timers.now();
    const parts = (Object.keys(this.draw) as Part[]).filter((p) => this.dirty.has(p));
    this.dirty.clear();
    try {
      for (const p of parts) this.draw[p]();
    } finally {
      const end = this.timers.now();
      const own = end - start;
      this.lastFlush = end;
      this.lastCost = own;
      const elsewhere = this.options.drawnElsewhereMs;
      if (elsewhere) {
        const before = elsewhere();
        this.timers.setTimeout(() => {
          if (this.lastFlush === end) this.lastCost = own + Math.max(0, elsewhere() - before);
        }, CHARGE_WINDOW_MS);
      }
    }
  }
}
