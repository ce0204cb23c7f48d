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

  test('a REST snapshot replaces the objects and forgets the watch position, so the next connect asks for a full state', () => {
    const store = new StateStore();
    store.apply({ type: 'added', position: 'e1.1', object: net('gone') });
    expect(store.replaceAll(store.beginSnapshot(), [net('a'), net('b')] as AnyResource[], 12)).toBe(true);
    expect(names(store)).toEqual(['a', 'b']);
    expect(store.position).toBeUndefined();
    expect(store.revision).toBe(12);
  });

  test('an object created and deleted between two watch passes, seen only by a snapshot, is gone after the next full state', () => {
    const store = new StateStore();
    store.beginFullState();
    store.apply({ type: 'synced', position: 'e1.1', revision: 1 });
    store.replaceAll(store.beginSnapshot(), [net('brief')] as AnyResource[], 2);
    // The reconnect has no position to resume from: it gets a full state without the object.
    expect(store.position).toBeUndefined();
    store.beginFullState();
    store.apply({ type: 'added', position: 'e1.3', object: net('other') });
    store.apply({ type: 'synced', position: 'e1.3', revision: 3 });
    expect(names(store)).toEqual(['other']);
  });

  test('a snapshot requested before a synced is not applied: the watch state is newer', () => {
    const store = new StateStore();
    const ticket = store.beginSnapshot();
    store.beginFullState();
    store.apply({ type: 'added', position: 'e1.5', object: net('new', '10.5.0.0/24') });
    store.apply({ type: 'synced', position: 'e1.5', revision: 5 });
    const seen = recording(store);
    expect(store.replaceAll(ticket, [net('new', '10.1.0.0/24')] as AnyResource[], 1)).toBe(false);
    expect(store.get('Network', 'new')?.spec.subnet).toBe('10.5.0.0/24');
    expect(store.position).toBe('e1.5');
    expect(store.revision).toBe(5);
    expect(seen).toEqual([]);
  });

  test('a snapshot requested before a live change is not applied', () => {
    const store = new StateStore();
    store.beginFullState();
    store.apply({ type: 'synced', position: 'e1.1', revision: 1 });
    const ticket = store.beginSnapshot();
    store.apply({ type: 'deleted', position: 'e1.2', object: net('ghost') });
    expect(store.replaceAll(ticket, [net('ghost')] as AnyResource[])).toBe(false);
    expect(names(store)).toEqual([]);
  });

  test('an older snapshot answering after a newer one is not applied', () => {
    const store = new StateStore();
    const older = store.beginSnapshot();
    const newer = store.beginSnapshot();
    expect(store.replaceAll(newer, [net('a', '10.2.0.0/24')] as AnyResource[], 2)).toBe(true);
    expect(store.replaceAll(older, [net('a', '10.1.0.0/24')] as AnyResource[], 1)).toBe(false);
    expect(store.get('Network', 'a')?.spec.subnet).toBe('10.2.0.0/24');
    expect(store.revision).toBe(2);
  });

  test('a snapshot requested before clear (a logout) is not applied after it', () => {
    const store = new StateStore();
    const ticket = store.beginSnapshot();
    store.clear();
    expect(store.replaceAll(ticket, [net('a')] as AnyResource[])).toBe(false);
    expect(store.size).toBe(0);
  });

  test('pong, event and error messages do not touch the objects', () => {
    const store = new StateStore();
    const before = store.version;
    const event = { type: 'event', event: { time: 't', firstTime: 't', type: 'Normal', reason: 'Created', message: 'm', involved: { kind: 'Network', name: 'a' }, count: 1 } };
    for (const m of [{ type: 'pong' }, event, { type: 'error', code: 'x', message: 'y' }] as WatchMessage[]) expect(store.apply(m)).toBe(false);
    expect(store.version).toBe(before);
  });

  test('lists sort names as people read them', () => {
    const store = new StateStore();
    store.replaceAll(store.beginSnapshot(), [net('h10'), net('h2'), net('h1')]);
    expect(names(store)).toEqual(['h1', 'h2', 'h10']);
  });
});
