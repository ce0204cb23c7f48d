import type { Network } from '../../../../model/kinds.js';
import { WATCH_CLOSE, type WatchMessage } from '../../../../model/watch.js';
import { StateStore } from '../../../../controller/console/state-store.js';
import { MAX_BACKOFF_MS, PING_EVERY_MS, SILENCE_LIMIT_MS, WatchClient, backoffDelay, type ConnState, type SocketLike, type Timers } from '../../../../controller/console/watch-client.js';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  closedWith: number | undefined;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(msg: WatchMessage): void {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  /** Several messages in one frame, as the controller sends what goes out together. */
  receiveFrame(msgs: WatchMessage[]): void {
    this.onmessage?.({ data: JSON.stringify(msgs) });
  }
  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

/** Timers under the test's control: run() fires what is due. */
class FakeTimers implements Timers {
  private t = 0;
  private queue: Array<{ at: number; fn: () => void; id: number }> = [];
  private next = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.queue.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.queue = this.queue.filter((q) => q.id !== handle);
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at);
      const due = this.queue[0];
      if (!due || due.at > end) break;
      this.queue.shift();
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
  get pending(): number[] {
    return this.queue.map((q) => q.at - this.t);
  }
}

const net = (name: string): Network => ({ apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name }, spec: { subnet: '10.0.0.0/24' } });

function setup(token: string | null = 'secret') {
  const store = new StateStore();
  const timers = new FakeTimers();
  const sockets: FakeSocket[] = [];
  const states: ConnState[] = [];
  const refused: string[] = [];
  const client = new WatchClient({
    url: 'ws://console.test/api/v1/watch',
    token: () => token ?? undefined,
    position: () => store.position,
    createSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    onFullState: () => store.beginFullState(),
    onDisconnect: () => store.abandonFullState(),
    onMessage: (m) => store.apply(m),
    onState: (s) => states.push(s),
    onUnauthorized: (m) => refused.push(m),
    timers,
    random: () => 0.5,
  });
  const last = () => sockets[sockets.length - 1] as FakeSocket;
  return { store, timers, sockets, states, refused, client, last };
}

describe('watch client', () => {
  test('sends the token as the first message, without a position the first time', () => {
    const { client, last, states } = setup();
    client.start();
    last().open();
    expect(last().sent).toEqual([{ type: 'auth', token: 'secret' }]);
    expect(states).toEqual(['connecting']);
  });

  test('is connected only once the full state is synced, and the store then holds it', () => {
    const { client, last, states, store } = setup();
    client.start();
    last().open();
    last().receive({ type: 'added', position: 'e1.2', object: net('web') });
    expect(states).toEqual(['connecting']);
    last().receive({ type: 'synced', position: 'e1.2', revision: 2 });
    expect(states).toEqual(['connecting', 'connected']);
    expect(store.list('Network').map((n) => n.metadata.name)).toEqual(['web']);
  });

  test('after a drop it reconnects with backoff and resumes from the last position', () => {
    const { client, last, sockets, states, timers, store } = setup();
    client.start();
    last().open();
    last().receive({ type: 'synced', position: 'e1.0', revision: 0 });
    last().receive({ type: 'added', position: 'e1.1', object: net('web') });
    last().drop();
    expect(states[states.length - 1]).toBe('reconnecting');
    expect(sockets).toHaveLength(1);
    timers.advance(backoffDelay(1, () => 0.5));
    expect(sockets).toHaveLength(2);
    last().open();
    expect(last().sent).toEqual([{ type: 'auth', token: 'secret', since: 'e1.1' }]);
    // The held state stays on screen meanwhile.
    expect(store.list('Network')).toHaveLength(1);
  });

  test('backoff doubles up to its cap and starts over after a successful sync', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, () => 0.5))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(30, () => 0.5)).toBe(MAX_BACKOFF_MS);
    const { client, last, timers } = setup();
    client.start();
    last().drop();
    expect(timers.pending).toEqual([500]);
    timers.advance(500);
    last().drop();
    expect(timers.pending).toEqual([1000]);
    timers.advance(1000);
    last().open();
    last().receive({ type: 'synced', position: 'e1.0', revision: 0 });
    last().drop();
    expect(timers.pending).toEqual([500]);
  });

  test('resync from the controller: everything is replaced by the new full state', () => {
    const { client, last, timers, store } = setup();
    client.start();
    last().open();
    last().receive({ type: 'added', position: 'e1.1', object: net('old') });
    last().receive({ type: 'synced', position: 'e1.1', revision: 1 });
    last().drop();
    timers.advance(500);
    last().open();
    last().receive({ type: 'resync', reason: 'position e1.1 is from another run of the controller' });
    last().receive({ type: 'added', position: 'e2.4', object: net('new') });
    last().receive({ type: 'synced', position: 'e2.4', revision: 4 });
    expect(store.list('Network').map((n) => n.metadata.name)).toEqual(['new']);
    expect(store.position).toBe('e2.4');
  });

  test('a refused token stops it: no retry', () => {
    const { client, last, timers, sockets, refused } = setup();
    client.start();
    last().open();
    last().drop(WATCH_CLOSE.unauthorized, 'wrong token');
    timers.advance(60_000);
    expect(sockets).toHaveLength(1);
    expect(refused).toEqual(['wrong token']);
  });

  test('an Unauthorized error message stops it too', () => {
    const { client, last, refused } = setup();
    client.start();
    last().open();
    last().receive({ type: 'error', code: 'Unauthorized', message: 'wrong or malformed bearer token' });
    expect(refused).toEqual(['wrong or malformed bearer token']);
    expect(last().closedWith).toBe(1000);
  });

  test('a frame of several messages is taken in order, as if they came one by one', () => {
    const { client, last, states, store } = setup();
    client.start();
    last().open();
    last().receiveFrame([
      { type: 'added', position: 'e1.1', object: net('web') },
      { type: 'added', position: 'e1.2', object: net('db') },
      { type: 'synced', position: 'e1.2', revision: 2 },
      { type: 'deleted', position: 'e1.3', object: net('web') },
    ]);
    expect(states).toEqual(['connecting', 'connected']);
    expect(store.list('Network').map((n) => n.metadata.name)).toEqual(['db']);
  });

  test('a refusal inside a frame stops it there: the messages after it go nowhere', () => {
    const { client, last, store, refused } = setup();
    client.start();
    last().open();
    last().receive({ type: 'synced', position: 'e1.0', revision: 0 }); // from here on an `added` goes straight into the store
    last().receiveFrame([
      { type: 'added', position: 'e1.1', object: net('before') },
      { type: 'error', code: 'Unauthorized', message: 'wrong or malformed bearer token' },
      { type: 'added', position: 'e1.2', object: net('late') },
    ]);
    expect(refused).toEqual(['wrong or malformed bearer token']);
    expect(store.list('Network').map((n) => n.metadata.name)).toEqual(['before']);
  });

  test('once it has given up, messages still arriving on the socket go nowhere', () => {
    const { client, last, store } = setup();
    client.start();
    last().open();
    last().receive({ type: 'synced', position: 'e1.0', revision: 0 });
    last().receive({ type: 'error', code: 'Unauthorized', message: 'wrong or malformed bearer token' });
    last().receive({ type: 'added', position: 'e1.1', object: net('late') });
    expect(store.list('Network')).toEqual([]);
  });

  test('pings while open, and gives up on a silent connection', () => {
    const { client, last, timers, sockets } = setup();
    client.start();
    last().open();
    last().receive({ type: 'synced', position: 'e1.0', revision: 0 });
    timers.advance(PING_EVERY_MS);
    expect(last().sent).toContainEqual({ type: 'ping' });
    timers.advance(SILENCE_LIMIT_MS);
    expect(sockets[0]?.closedWith).toBe(4000);
    timers.advance(1000);
    expect(sockets).toHaveLength(2);
  });

  test('stop closes the socket and schedules nothing', () => {
    const { client, last, timers, states } = setup();
    client.start();
    last().open();
    client.stop();
    expect(last().closedWith).toBe(1000);
    expect(timers.pending).toEqual([]);
    expect(states[states.length - 1]).toBe('stopped');
  });

  test('without a token it does not connect', () => {
    const { client, sockets, refused } = setup(null);
    client.start();
    expect(sockets).toHaveLength(0);
    expect(refused).toEqual(['not logged in']);
  });
});
