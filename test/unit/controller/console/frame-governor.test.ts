import { governFrames, type FrameWindow } from '../../../../controller/console/frame-governor.js';

/** A window whose clock, timeouts and animation frames run by hand. */
function fakeWindow() {
  let now = 0;
  let nextHandle = 1;
  const timeouts = new Map<number, { at: number; fn: () => void }>();
  let frames = new Map<number, (t: number) => void>();
  const listeners = new Map<string, () => void>();
  const asked: number[] = [];
  const win: FrameWindow = {
    requestAnimationFrame: (cb) => {
      const id = nextHandle++;
      frames.set(id, cb);
      asked.push(now);
      return id;
    },
    cancelAnimationFrame: (id) => {
      frames.delete(id);
    },
    setTimeout: (fn, ms) => {
      const h = nextHandle++;
      timeouts.set(h, { at: now + ms, fn });
      return h;
    },
    clearTimeout: (h) => {
      timeouts.delete(h as number);
    },
    addEventListener: (type, fn) => listeners.set(type, fn),
    performance: { now: () => now },
  };
  /** Let `ms` pass: due timeouts fire, then one display frame runs what was asked for. */
  const advance = (ms: number) => {
    now += ms;
    for (const [h, t] of [...timeouts]) {
      if (t.at > now) continue;
      timeouts.delete(h);
      t.fn();
    }
    const run = frames;
    frames = new Map();
    for (const cb of run.values()) cb(now);
  };
  return { win, advance, asked, fire: (type: string) => listeners.get(type)?.(), pendingTimeouts: () => timeouts.size };
}

const OPTIONS = { idleDelayMs: 250, activeMs: 1_000 };

describe('frame governor', () => {
  test('idle: a frame is put off by idleDelayMs, then runs in a real frame with its timestamp', () => {
    const f = fakeWindow();
    governFrames(f.win, OPTIONS);
    const ran: number[] = [];
    f.win.requestAnimationFrame((t) => ran.push(t));
    f.advance(16);
    expect(ran).toEqual([]);
    f.advance(234);
    expect(ran).toEqual([250]);
  });

  test('a loop that asks for frames forever runs a few times a second when idle, at full rate after input', () => {
    const f = fakeWindow();
    governFrames(f.win, OPTIONS);
    let runs = 0;
    const loop = () => {
      runs += 1;
      f.win.requestAnimationFrame(loop);
    };
    f.win.requestAnimationFrame(loop);
    for (let i = 0; i < 60; i++) f.advance(1000 / 60);
    expect(runs).toBeLessThanOrEqual(4);
    f.fire('pointermove');
    const before = runs;
    for (let i = 0; i < 30; i++) f.advance(1000 / 60);
    expect(runs - before).toBeGreaterThanOrEqual(28);
  });

  test('wake asks at once for the frames already put off', () => {
    const f = fakeWindow();
    const g = governFrames(f.win, OPTIONS);
    const ran: number[] = [];
    f.win.requestAnimationFrame((t) => ran.push(t));
    f.advance(10);
    g.wake(100);
    f.advance(6);
    expect(ran).toEqual([16]);
    expect(f.pendingTimeouts()).toBe(0);
  });

  test('a short wake ends: frames are put off again after it', () => {
    const f = fakeWindow();
    const g = governFrames(f.win, OPTIONS);
    g.wake(100);
    const ran: number[] = [];
    f.win.requestAnimationFrame((t) => ran.push(t));
    f.advance(16);
    expect(ran).toEqual([16]);
    f.advance(100);
    f.win.requestAnimationFrame((t) => ran.push(t));
    f.advance(16);
    expect(ran).toEqual([16]);
    f.advance(250);
    expect(ran).toEqual([16, 382]);
  });

  test('cancelAnimationFrame cancels a frame put off and one already asked for', () => {
    const f = fakeWindow();
    const g = governFrames(f.win, OPTIONS);
    const ran: string[] = [];
    const putOff = f.win.requestAnimationFrame(() => ran.push('put off'));
    g.wake();
    const asked = f.win.requestAnimationFrame(() => ran.push('asked'));
    f.win.requestAnimationFrame(() => ran.push('kept'));
    f.win.cancelAnimationFrame(putOff); // woken meanwhile: asked for by now
    f.win.cancelAnimationFrame(asked);
    f.advance(16);
    expect(ran).toEqual(['kept']);

    const f2 = fakeWindow();
    governFrames(f2.win, OPTIONS);
    const id = f2.win.requestAnimationFrame(() => ran.push('never'));
    f2.win.cancelAnimationFrame(id);
    expect(f2.pendingTimeouts()).toBe(0);
    f2.advance(500);
    expect(ran).toEqual(['kept']);
  });
});
