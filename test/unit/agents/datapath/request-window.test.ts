import { RequestWindow } from '../../../../agents/datapath/netlink/request-window.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

/** A request through the window: takes a slot, stays in flight until finish() is called. */
function request(w: RequestWindow, id: number, log: string[]) {
  let finish: () => void = () => {};
  const done = new Promise<void>((r) => (finish = r));
  const run = (async () => {
    const turn = w.enter();
    if (turn) await turn;
    log.push(`send ${id}`);
    try {
      await done;
    } finally {
      w.leave();
    }
  })();
  return { finish, run };
}

describe('RequestWindow', () => {
  test('a burst of requests never has more than the window in flight, and they are sent in the order they asked', async () => {
    const w = new RequestWindow(4);
    const log: string[] = [];
    const reqs = Array.from({ length: 20 }, (_, i) => request(w, i, log));
    let most = 0;
    for (const r of reqs) {
      await tick();
      most = Math.max(most, w.inflight);
      r.finish();
    }
    await Promise.all(reqs.map((r) => r.run));
    expect(most).toBe(4);
    expect(log).toEqual(reqs.map((_, i) => `send ${i}`));
    expect(w.inflight).toBe(0);
    expect(w.waiting).toBe(0);
  });

  test('a free slot is taken in the same tick (a request can be sent before the caller yields)', () => {
    const w = new RequestWindow(2);
    expect(w.enter()).toBeUndefined();
    expect(w.enter()).toBeUndefined();
    const third = w.enter();
    expect(third).toBeInstanceOf(Promise);
    expect(w.inflight).toBe(2);
    expect(w.waiting).toBe(1);
  });

  test('with a window of one, each request is sent only after the previous one finished', async () => {
    const w = new RequestWindow(1);
    const log: string[] = [];
    const a = request(w, 1, log);
    const b = request(w, 2, log);
    await tick();
    expect(log).toEqual(['send 1']);
    a.finish();
    await a.run;
    await tick();
    expect(log).toEqual(['send 1', 'send 2']);
    b.finish();
    await b.run;
  });

  test('a request that fails gives its slot back to the next in line', async () => {
    const w = new RequestWindow(1);
    let fail: () => void = () => {};
    const failed = new Promise<void>((r) => (fail = r));
    const first = (async () => {
      const turn = w.enter();
      if (turn) await turn;
      try {
        await failed;
        throw new Error('ETIMEDOUT');
      } finally {
        w.leave();
      }
    })();
    const log: string[] = [];
    const second = request(w, 2, log);
    await tick();
    // The second is in line behind the first, which holds the only slot.
    expect(log).toEqual([]);
    expect(w.waiting).toBe(1);
    fail();
    await expect(first).rejects.toThrow('ETIMEDOUT');
    await tick();
    expect(log).toEqual(['send 2']);
    expect(w.waiting).toBe(0);
    second.finish();
    await second.run;
    expect(w.inflight).toBe(0);
  });

  test('idle() waits for the requests in flight and those waiting for a slot', async () => {
    const w = new RequestWindow(1);
    const log: string[] = [];
    const a = request(w, 1, log);
    const b = request(w, 2, log);
    let idle = false;
    const waiting = w.idle().then(() => (idle = true));
    a.finish();
    await a.run;
    await tick();
    expect(idle).toBe(false); // b got the slot
    b.finish();
    await b.run;
    await waiting;
    expect(idle).toBe(true);
    await w.idle(); // nothing in flight: at once
  });

  test('refuses a window that is not a positive integer, and a leave() without an enter()', () => {
    expect(() => new RequestWindow(0)).toThrow(RangeError);
    expect(() => new RequestWindow(1.5)).toThrow(RangeError);
    expect(() => new RequestWindow(1).leave()).toThrow('without enter');
  });
});
