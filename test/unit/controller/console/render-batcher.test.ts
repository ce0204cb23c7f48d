import { RenderBatcher, type RenderTimers } from '../../../../controller/console/render-batcher.js';

/** Timers run by hand: `advance` fires what is due, then the frames it queued. */
function fakeTimers() {
  let now = 1000;
  let timeouts: { at: number; fn: () => void }[] = [];
  let frames: (() => void)[] = [];
  const timers: RenderTimers = {
    setTimeout: (fn, ms) => timeouts.push({ at: now + ms, fn }),
    frame: (fn) => frames.push(fn),
    now: () => now,
  };
  const advance = (ms: number) => {
    now += ms;
    const due = timeouts.filter((t) => t.at <= now);
    timeouts = timeouts.filter((t) => t.at > now);
    for (const t of due) t.fn();
    const run = frames;
    frames = [];
    for (const f of run) f();
  };
  return { timers, advance };
}

function setup() {
  const { timers, advance } = fakeTimers();
  const drawn: string[] = [];
  const batcher = new RenderBatcher({ objects: () => drawn.push('objects'), events: () => drawn.push('events') }, 500, timers);
  return { batcher, drawn, advance };
}

describe('render batcher', () => {
  test('fifty requests in a burst draw once', () => {
    const { batcher, drawn, advance } = setup();
    for (let i = 0; i < 50; i++) batcher.request('events');
    advance(0);
    expect(drawn).toEqual(['events']);
    advance(1000);
    expect(drawn).toEqual(['events']);
  });

  test('only the parts asked for are drawn, together in one flush', () => {
    const { batcher, drawn, advance } = setup();
    batcher.request('events');
    batcher.request('objects');
    batcher.request('events');
    advance(0);
    expect(drawn).toEqual(['objects', 'events']);
  });

  test('a request right after a flush waits for the rest of the interval, not longer', () => {
    const { batcher, drawn, advance } = setup();
    batcher.request('objects');
    advance(0);
    advance(100);
    batcher.request('events');
    advance(399);
    expect(drawn).toEqual(['objects']);
    advance(1);
    expect(drawn).toEqual(['objects', 'events']);
  });
});
