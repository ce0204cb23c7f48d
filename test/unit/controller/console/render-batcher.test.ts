import { CHARGE_WINDOW_MS, MAX_WAIT_MS, RenderBatcher, SPACING, type RenderTimers } from '../../../../controller/console/render-batcher.js';

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
  /** Time passing inside a draw (what it costs), without firing anything. */
  const spend = (ms: number) => {
    now += ms;
  };
  return { timers, advance, spend };
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

  describe('spacing by cost', () => {
    /** A batcher whose `objects` draw takes `cost.own` ms and leaves `cost.elsewhere` ms of drawing in the frames after it. */
    function costly() {
      const { timers, advance, spend } = fakeTimers();
      const drawn: number[] = [];
      const cost = { own: 0, elsewhere: 0 };
      let elsewhereTotal = 0;
      let owed = 0;
      const batcher = new RenderBatcher(
        {
          objects: () => {
            drawn.push(timers.now());
            spend(cost.own);
            owed += cost.elsewhere;
          },
        },
        500,
        timers,
        { drawnElsewhereMs: () => elsewhereTotal },
      );
      /** The frames after a flush draw what it left (as a canvas library does in its own frames). */
      const drawOwed = () => {
        elsewhereTotal += owed;
        owed = 0;
      };
      return { batcher, drawn, advance, cost, drawOwed, draws: () => drawn.length };
    }

    test('a costly flush keeps the next one SPACING times its cost away', () => {
      const { batcher, advance, cost, draws } = costly();
      cost.own = 100;
      batcher.request('objects');
      advance(0);
      expect(draws()).toBe(1);
      batcher.request('objects');
      advance(SPACING * 100 - 1);
      expect(draws()).toBe(1);
      advance(1);
      expect(draws()).toBe(2);
    });

    test('drawing elsewhere right after a flush is charged to it, even when the next request came before it was seen', () => {
      const { batcher, advance, cost, drawOwed, draws } = costly();
      cost.own = 10;
      cost.elsewhere = 60;
      batcher.request('objects');
      advance(0);
      batcher.request('objects'); // queued with only the flush's own 10 ms known
      advance(16);
      drawOwed(); // the next animation frame draws what the flush changed
      advance(CHARGE_WINDOW_MS);
      advance(500 - 16 - CHARGE_WINDOW_MS); // the plain interval has passed ...
      expect(draws()).toBe(1); // ... but 70 ms of cost asks for 700
      advance(SPACING * 70 - 500 - 1);
      expect(draws()).toBe(1);
      advance(1);
      expect(draws()).toBe(2);
    });

    test('drawing elsewhere later than the window (a user panning) is not charged to the flush', () => {
      const { batcher, advance, cost, drawOwed, draws } = costly();
      cost.own = 10;
      cost.elsewhere = 5_000;
      batcher.request('objects');
      advance(0);
      advance(CHARGE_WINDOW_MS + 1);
      drawOwed();
      batcher.request('objects');
      advance(500);
      expect(draws()).toBe(2);
    });

    test('however costly, the next flush comes within MAX_WAIT_MS', () => {
      const { batcher, advance, cost, draws } = costly();
      cost.own = MAX_WAIT_MS;
      batcher.request('objects');
      advance(0);
      batcher.request('objects');
      advance(MAX_WAIT_MS - 1);
      expect(draws()).toBe(1);
      advance(1);
      expect(draws()).toBe(2);
    });
  });
});
