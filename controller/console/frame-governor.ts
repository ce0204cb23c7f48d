// Animation frames at full rate only while something moves. cytoscape runs
// its render loop on requestAnimationFrame for as long as the page lives,
// 60 times a second, even with nothing to draw; each of those frames costs
// the browser a little (its frame pipeline, the compositor), which comes to
// about a tenth of a core with the topology open and idle. On a laptop that
// is battery; on a machine that also runs the controller or an agent it is
// CPU the API wants (the console-load benchmark measures it).
//
// So the page's requestAnimationFrame is wrapped: for a moment after user
// input or a change drawn (wake()), frames come at the display's rate; when
// idle, each frame is first put off by IDLE_DELAY_MS, so a loop that asks
// for frames forever runs a few times a second. Ids stay the browser's
// contract: cancelAnimationFrame cancels a frame whether it is put off or
// already asked for; waking asks at once for the frames put off. Nothing
// else changes: a callback still runs in a real animation frame, with its
// timestamp.

export interface GovernorOptions {
  /** An idle frame is put off this long. */
  idleDelayMs: number;
  /** Full rate for this long after input or wake(). */
  activeMs: number;
}

export const DEFAULT_GOVERNOR_OPTIONS: GovernorOptions = { idleDelayMs: 250, activeMs: 1_500 };

/** What the governor needs of `window` (typed by hand: the unit tests compile without the DOM library). */
export interface FrameWindow {
  requestAnimationFrame(cb: (t: number) => void): number;
  cancelAnimationFrame(id: number): void;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  addEventListener(type: string, fn: () => void, options: { capture: boolean; passive: boolean }): void;
  performance: { now(): number };
}

/** What wakes the frames: anything the user does to the page. */
const INPUT_EVENTS = ['pointerdown', 'pointermove', 'wheel', 'keydown', 'touchstart', 'resize', 'focus', 'scroll', 'input', 'drop'];

export interface FrameGovernor {
  /** Frames at full rate for `ms` (default: as after input), e.g. for a change about to be drawn. */
  wake(ms?: number): void;
}

type Pending = { timer: unknown; cb: (t: number) => void; frame?: undefined } | { timer?: undefined; frame: number };

export function governFrames(win: FrameWindow, options: GovernorOptions = DEFAULT_GOVERNOR_OPTIONS): FrameGovernor {
  const request = win.requestAnimationFrame.bind(win);
  const cancel = win.cancelAnimationFrame.bind(win);
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let activeUntil = -Infinity;
  const askFrame = (id: number, cb: (t: number) => void) => {
    pending.set(id, {
      frame: request((t) => {
        pending.delete(id);
        cb(t);
      }),
    });
  };
  const wake = (ms = options.activeMs) => {
    activeUntil = Math.max(activeUntil, win.performance.now() + ms);
    // Frames already put off are asked for now: the loop waiting in one should see the change at once.
    for (const [id, p] of pending) {
      if (p.frame !== undefined) continue;
      win.clearTimeout(p.timer);
      askFrame(id, p.cb);
    }
  };
  for (const type of INPUT_EVENTS) win.addEventListener(type, () => wake(), { capture: true, passive: true });

  win.requestAnimationFrame = (cb) => {
    const id = nextId++;
    if (win.performance.now() < activeUntil) askFrame(id, cb);
    else pending.set(id, { timer: win.setTimeout(() => askFrame(id, cb), options.idleDelayMs), cb });
    return id;
  };
  win.cancelAnimationFrame = (id) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (p.frame !== undefined) cancel(p.frame);
    else win.clearTimeout(p.timer);
  };
  return { wake };
}
