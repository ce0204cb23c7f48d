import type { AnyResource, Network } from '../../../../model/kinds.js';
import type { WatchMessage } from '../../../../model/watch.js';
import { StateStore, type StoreChange } from '../../../../controller/console/state-store.js';

const net = (name: string, subnet = '10.0.0.0/24'): Network => ({ apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name }, spec: { subnet } });

function recording(store: StateStore): StoreChange[][] {
  const seen: StoreChange[][] = [];
  store.subscribe((c) => seen.push(c));
  return seen;
}

const names = (store: StateStore) => store.list('Network').map((n) => n.metadata.name);

describe('console state store', () => {
  test('added, modified and deleted change the objects and the resume position', () => {
    const store = new StateStore();
    const seen = recording(store);
    store.apply({ type: 'added', position: 'e1.1', object: net('web') });
    store.apply({ type: 'modified', position: 'e1.2', object: net('web', '10.9.0.0/24') });
    store.apply({ type: 'added', position: 'e1.3', object: net('db') });
    expect(names(store)).toEqual(['db', 'web']);
    expect(store.get('Network', 'web')?.spec.subnet).toBe('10.9.0.0/24');
    store.apply({ type: 'deleted', position: 'e1.4', object: net('web') });
    expect(names(store)).toEqual(['db']);
    expect(store.position).toBe('e1.4');
    expect(seen.map((c) => c.map((x) => x.type))).toEqual([['added'], ['modified'], ['added'], ['deleted']]);
  });

  test('deleting an object the store does not hold changes nothing', () => {
    const store = new StateStore();
    const seen = recording(store);
    expect(store.apply({ type: 'deleted', position: 'e1.1', object: net('ghost') })).toBe(false);
    expect(seen).toEqual([]);
  });

  test('resync: the old state stays until synced, then the full state replaces it whole', () => {
    const store = new StateStore();
    store.apply({ type: 'added', position: 'e1.1', object: net('old') });
    store.apply({ type: 'added', position: 'e1.2', object: net('kept', '10.1.0.0/24') });
    const seen = recording(store);

    store.apply({ type: 'resync', reason: 'position e1.2 is from another run' });
    expect(store.position).toBeUndefined();
    store.apply({ type: 'added', position: 'e2.5', object: net('kept', '10.2.0.0/24') });
    store.apply({ type: 'added', position: 'e2.5', object: net('new') });
    expect(names(store)).toEqual(['kept', 'old']);
    expect(store.receivingFullState).toBe(true);

    store.apply({ type: 'synced', position: 'e2.5', revision: 7 });
    expect(names(store)).toEqual(['kept', 'new']);
    expect(store.get('Network', 'kept')?.spec.subnet).toBe('10.2.0.0/24');
    expect(store.position).toBe('e2.5');
    expect(store.revision).toBe(7);
    expect(seen).toEqual([[{ type: 'reset' }]]);
  });

  test('a full state cut short by a disconnect is thrown away and the old state kept', () => {
    const store = new StateStore();
    store.apply({ type: 'added', position: 'e1.1', object: net('old') });
    store.beginFullState();
    store.apply({ type: 'added', position: 'e1.9', object: net('half') });
    store.abandonFullState();
    expect(names(store)).toEqual(['old']);
    // Nothing to resume from: the next connect asks for a full state again.
    expect(store.position).toBeUndefined();
  });

  test('changes after synced apply one by one again', () => {
    const store = new StateStore();
    store.beginFullState();
    store.apply({ type: 'added', position: 'e1.3', object: net('a') });
    store.apply({ type: 'synced', position: 'e1.3', revision: 3 });
    store.apply({ type: 'modified', position: 'e1.4', object: net('a', '10.4.0.0/24') });
    expect(store.get('Network', 'a')?.spec.subnet).toBe('10.4.0.0/24');
    expect(store.position).toBe('e1.4');
  });

  test('a REST snapshot replaces the objects and keeps the watch position', () => {
    const store = new StateStore();
    store.apply({ type: 'added', position: 'e1.1', object: net('gone') });
    store.replaceAll([net('a'), net('b')] as AnyResource[], 12);
    expect(names(store)).toEqual(['a', 'b']);
    expect(store.position).toBe('e1.1');
    expect(store.revision).toBe(12);
  });

  test('pong, event and error messages do not touch the objects', () => {
    const store = new StateStore();
    const before = store.version;
    for (const m of [{ type: 'pong' }, { type: 'error', code: 'x', message: 'y' }] as WatchMessage[]) expect(store.apply(m)).toBe(false);
    expect(store.version).toBe(before);
  });

  test('lists sort names as people read them', () => {
    const store = new StateStore();
    store.replaceAll([net('h10'), net('h2'), net('h1')]);
    expect(names(store)).toEqual(['h1', 'h2', 'h10']);
  });
});
