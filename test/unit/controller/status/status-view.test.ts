// Endpoint views are rebuilt from records parsed only when written, and a
// view whose inputs did not change is handed out again as the same object
// (the watch relies on it to skip serializing). Neither may ever show a
// stale view: every change to a record or a declaration shows at once.
import type { Endpoint } from '../../../../model/kinds.js';
import { watchHarness } from '../watch/watch-harness.js';

type Harness = ReturnType<typeof watchHarness>;

describe('StatusView: endpoint views, cached', () => {
  let h: Harness;
  afterEach(() => h.close());

  const views = () => new Map(h.status.listEndpoints().items.map((e) => [e.metadata.name, e]));
  /** Every view as a fresh read of the store would build it: what the cached views must equal. */
  const uncached = () => {
    const records = h.store.read((r) => r.listEndpointRecords());
    return new Map(records.map((e) => [e.metadata.name, e]));
  };

  const setup = () => {
    h = watchHarness();
    h.createNetwork('a', '10.1.0.0/16');
    h.connect('h1');
    h.connect('h2');
  };

  test('an unchanged endpoint keeps its view object across commits; a changed one gets a new, current view', () => {
    setup();
    h.attach('h1', 'a', 'one', 5);
    h.attach('h1', 'a', 'two', 6);
    const before = views();
    h.attach('h2', 'a', 'three', 5); // a commit that touches neither
    const after = views();
    expect(after.get('one')).toBe(before.get('one'));
    expect(after.get('two')).toBe(before.get('two'));
    expect(after.get('three')?.status?.ip).toBeDefined();

    // "two" reported again with another address: its view changes, "one"'s does not.
    h.handler.endpointDown('h1', 'two');
    h.attach('h1', 'a', 'two', 9);
    const changed = views();
    expect(changed.get('one')).toBe(before.get('one'));
    expect(changed.get('two')).not.toBe(before.get('two'));
    expect(changed.get('two')?.status?.ip).toBe(uncached().get('two')?.status?.ip);
    expect(changed.get('two')?.status?.ip).not.toBe(before.get('two')?.status?.ip);
  });

  test('a detached endpoint disappears, and one attached again under the same name shows its new record', () => {
    setup();
    h.attach('h1', 'a', 'one', 5);
    const first = views().get('one');
    h.handler.endpointDown('h1', 'one');
    expect(views().has('one')).toBe(false);
    h.attach('h2', 'a', 'one', 7);
    const again = views().get('one');
    expect(again).not.toBe(first);
    expect(again?.spec.host).toBe('h2');
    expect(again?.status?.ip).toBe(uncached().get('one')?.status?.ip);
  });

  test('a declaration changed, or its record arriving, changes the view at once', () => {
    setup();
    const declare = (labels: Record<string, string>) =>
      h.resources.apply({ items: [{ apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: 'db', labels }, spec: { network: 'a', host: 'h1', containerId: 'c-db', ifname: 'eth0' } }] });
    declare({ tier: 'db' });
    const waiting = views().get('db') as Endpoint;
    expect(waiting.status?.conditions?.[0]?.reason).toBe('NotAttached');
    expect(views().get('db')).toBe(waiting); // nothing changed, nothing rebuilt

    declare({ tier: 'primary' });
    const relabelled = views().get('db') as Endpoint;
    expect(relabelled).not.toBe(waiting);
    expect(relabelled.metadata.labels).toEqual({ tier: 'primary' });

    h.attach('h1', 'a', 'db', 5);
    const attached = views().get('db') as Endpoint;
    expect(attached.status?.conditions?.[0]?.reason).toBe('Attached');
    expect(attached.status?.ip).toBe(uncached().get('db')?.status?.ip);
    expect(attached.metadata.labels).toEqual({ tier: 'primary' });
  });

  test('the cached views equal views built from scratch, through a run of random changes', () => {
    setup();
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const attached = new Map<string, string>();
    for (let step = 0; step < 200; step++) {
      const name = `e${random(12)}`;
      if (attached.has(name)) {
        h.handler.endpointDown(attached.get(name) as string, name);
        attached.delete(name);
      } else {
        const host = random(2) === 0 ? 'h1' : 'h2';
        h.attach(host, 'a', name, 2 + Number(name.slice(1)));
        attached.set(name, host);
      }
      // What a controller started now would show: a StatusView with nothing cached.
      const fresh = new (h.status.constructor as new (...a: unknown[]) => typeof h.status)(h.store, h.live, h.config);
      expect(JSON.stringify(h.status.listEndpoints().items)).toBe(JSON.stringify(fresh.listEndpoints().items));
    }
  });
});
