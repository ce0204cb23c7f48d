// Write events without touching the writers: a Store that records an event
// for every resource created, configured or deleted and every endpoint
// record an agent added or removed, once the transaction has committed.
// Dry runs (simulate) and rolled-back writes record nothing. main.ts wraps
// the SqliteStore in it, so every write path (REST, apply, agent messages,
// the gone-host sweeper) is covered by one hook.
import type { EventInput } from '../../model/events.js';
import type { AnyResource, Endpoint, Kind } from '../../model/kinds.js';
import type { Store, StoreReader, StoreTx, WriteAction } from '../store/store.js';
import type { EventLog } from './event-log.js';

const lower = (kind: Kind) => kind.toLowerCase();

function writeEvent(before: AnyResource | undefined, r: AnyResource, action: WriteAction): EventInput | undefined {
  const involved = { kind: r.kind, name: r.metadata.name };
  const generation = r.metadata.generation ?? 1;
  if (action === 'created') return { type: 'Normal', reason: 'Created', message: `${lower(r.kind)} created (generation ${generation})`, involved };
  if (action !== 'configured') return undefined;
  // Agents rewrite their Host's status on every hello and disconnect: only what users change is an event.
  if (before && before.metadata.generation === r.metadata.generation && JSON.stringify(before.metadata.labels ?? {}) === JSON.stringify(r.metadata.labels ?? {})) {
    return undefined;
  }
  return { type: 'Normal', reason: 'Configured', message: `${lower(r.kind)} configured (generation ${generation})`, involved };
}

function recordEvent(rec: Endpoint): EventInput {
  const ip = rec.status?.ip ?? rec.spec.ip;
  return {
    type: 'Normal',
    reason: 'Attached',
    message: `attached on host "${rec.spec.host}"${ip === undefined ? '' : ` with ${ip}`} (network "${rec.spec.network}")`,
    involved: { kind: 'Endpoint', name: rec.metadata.name },
  };
}

/** tx with the writes that make events observed; everything else passes through (a Proxy, so StoreTx may grow). */
function observingTx(tx: StoreTx, pending: EventInput[]): StoreTx {
  const observed: Partial<StoreTx> = {
    putResource(resource) {
      // Resources other than Host are written only by users: every change is one. Hosts need a look at the old one.
      const before = resource.kind === 'Host' ? tx.getResource('Host', resource.metadata.name) : undefined;
      const out = tx.putResource(resource);
      const e = writeEvent(before, out.resource, out.action);
      if (e) pending.push(e);
      return out;
    },
    deleteResource(kind, name) {
      const gone = tx.deleteResource(kind, name);
      if (gone) pending.push({ type: 'Normal', reason: 'Deleted', message: `${lower(kind)} deleted`, involved: { kind, name } });
      return gone;
    },
    putEndpointRecord(endpoint) {
      const out = tx.putEndpointRecord(endpoint);
      if (out.action === 'created') pending.push(recordEvent(out.resource));
      return out;
    },
    deleteEndpointRecord(name) {
      const rec = tx.getEndpointRecord(name);
      const gone = tx.deleteEndpointRecord(name);
      if (gone && rec) {
        pending.push({ type: 'Normal', reason: 'Detached', message: `no longer attached on host "${rec.spec.host}" (network "${rec.spec.network}")`, involved: { kind: 'Endpoint', name } });
      }
      return gone;
    },
  };
  return new Proxy(tx, {
    get(target, prop) {
      const own = (observed as Record<PropertyKey, unknown>)[prop];
      if (own !== undefined) return own;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export class EventRecordingStore implements Store {
  constructor(
    private readonly inner: Store,
    private readonly events: EventLog,
  ) {}

  revision(): number {
    return this.inner.revision();
  }

  read<T>(fn: (r: StoreReader) => T): T {
    return this.inner.read(fn);
  }

  write<T>(fn: (tx: StoreTx) => T): T {
    const pending: EventInput[] = [];
    const result = this.inner.write((tx) => fn(observingTx(tx, pending)));
    const now = Date.now();
    for (const e of pending) this.events.record({ ...e, time: now });
    return result;
  }

  simulate<T>(fn: (tx: StoreTx) => T): T {
    return this.inner.simulate(fn);
  }

  onCommit(listener: (revision: number) => void): () => void {
    return this.inner.onCommit(listener);
  }

  close(): void {
    this.inner.close();
  }
}
