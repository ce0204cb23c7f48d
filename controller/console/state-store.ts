// Everything the console knows about the controller's objects, kept up to
// date from the watch stream (model/watch.ts) or, while the stream is down,
// from REST snapshots. Pure: no DOM, no sockets; views subscribe.
//
// A full state (after `resync`, or on a connect without a position) is
// collected aside and replaces the old one only at `synced`, so the screen
// never shows a half-loaded network; objects missing from it are dropped.
//
// REST snapshots (the first load, polling while the watch is down) are a
// second source, read at some unknown point of the history. So that the
// watch still misses nothing, a snapshot that replaces the state forgets the
// watch position (the next connect asks for a full state, which replaces
// everything again), and a snapshot is refused when the watch changed the
// store after it was requested, or a newer snapshot was applied first.
import type { AnyResource, Kind } from '../../model/kinds.js';
import { watchKey, type WatchMessage } from '../../model/watch.js';
import { compareNames } from './names.js';

export type StoreChange =
  | { type: 'added' | 'modified' | 'deleted'; key: string; object: AnyResource }
  /** everything may have changed: re-read the whole store */
  | { type: 'reset' };

export type StoreListener = (changes: StoreChange[]) => void;

export class StateStore {
  private objects = new Map<string, AnyResource>();
  /** A full state being received; replaces `objects` at `synced`. */
  private incoming: Map<string, AnyResource> | undefined;
  private listeners = new Set<StoreListener>();
  private lastPosition: string | undefined;
  /** Tickets handed out by `beginSnapshot` so far. */
  private snapshotsBegun = 0;
  /** Snapshots with a lower ticket are out of date: the watch or a newer snapshot came after them. */
  private snapshotsValidFrom = 0;
  /** Store revision of the last `synced` or REST snapshot. */
  revision: number | undefined;
  /** Bumped on every change, so views can tell whether they are current. */
  version = 0;

  /** The position to resume the watch from: only one the store holds everything up to. */
  get position(): string | undefined {
    return this.lastPosition;
  }

  get receivingFullState(): boolean {
    return this.incoming !== undefined;
  }

  get size(): number {
    return this.objects.size;
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get<K extends Kind>(kind: K, name: string): Extract<AnyResource, { kind: K }> | undefined {
    return this.objects.get(`${kind}/${name}`) as Extract<AnyResource, { kind: K }> | undefined;
  }

  getByKey(key: string): AnyResource | undefined {
    return this.objects.get(key);
  }

  /** Objects of one kind, by name. */
  list<K extends Kind>(kind: K): Extract<AnyResource, { kind: K }>[] {
    const out: Extract<AnyResource, { kind: K }>[] = [];
    for (const o of this.objects.values()) if (o.kind === kind) out.push(o as Extract<AnyResource, { kind: K }>);
    return out.sort((a, b) => compareNames(a.metadata.name, b.metadata.name));
  }

  /** A full state follows (a connect without a position): collect it aside until `synced`. */
  beginFullState(): void {
    this.incoming = new Map();
    this.lastPosition = undefined;
  }

  /** A connection ended: a full state cut short is thrown away (the old state stays). */
  abandonFullState(): void {
    this.incoming = undefined;
  }

  /** Apply one watch message; returns true when the store changed. */
  apply(msg: WatchMessage): boolean {
    // The watch moves the store on (even a `deleted` of an object the store
    // lacks: a snapshot under way may still show it), so a snapshot requested
    // before now may be older than what the store holds.
    if (msg.type === 'added' || msg.type === 'modified' || msg.type === 'deleted' || msg.type === 'synced') this.snapshotsValidFrom = this.snapshotsBegun;
    return this.applyWatch(msg);
  }

  private applyWatch(msg: WatchMessage): boolean {
    switch (msg.type) {
      case 'resync':
        this.beginFullState();
        return false;
      case 'added':
      case 'modified':
      case 'deleted': {
        const key = watchKey(msg.object);
        if (this.incoming) {
          if (msg.type === 'deleted') this.incoming.delete(key);
          else this.incoming.set(key, msg.object);
          return false;
        }
        this.lastPosition = msg.position;
        if (msg.type === 'deleted') {
          if (!this.objects.delete(key)) return false;
        } else {
          this.objects.set(key, msg.object);
        }
        this.emit([{ type: msg.type, key, object: msg.object }]);
        return true;
      }
      case 'synced': {
        this.lastPosition = msg.position;
        this.revision = msg.revision;
        if (!this.incoming) return false;
        this.objects = this.incoming;
        this.incoming = undefined;
        this.emit([{ type: 'reset' }]);
        return true;
      }
      default:
        return false;
    }
  }

  /**
   * A REST snapshot is about to be requested: returns its ticket for
   * `replaceAll`. Ask before sending the requests, so that anything the
   * watch applies while they are under way invalidates the reply.
   */
  beginSnapshot(): number {
    return this.snapshotsBegun++;
  }

  /**
   * Replace everything with the REST snapshot of `ticket`, unless the watch
   * changed the store (a `synced` included) or a newer snapshot was applied
   * since the ticket was taken; returns whether it was applied. The watch
   * position is forgotten: the snapshot may show changes the watch has not
   * delivered, and lacks objects created and deleted in between, so
   * resuming from the old position could leave an object that no `deleted`
   * ever removes. The next connect gets a full state instead.
   */
  replaceAll(ticket: number, objects: AnyResource[], revision?: number): boolean {
    if (ticket < this.snapshotsValidFrom) return false;
    this.snapshotsValidFrom = ticket + 1;
    this.objects = new Map(objects.map((o) => [watchKey(o), o]));
    this.lastPosition = undefined;
    if (revision !== undefined) this.revision = revision;
    this.emit([{ type: 'reset' }]);
    return true;
  }

  clear(): void {
    this.objects = new Map();
    this.incoming = undefined;
    this.lastPosition = undefined;
    this.revision = undefined;
    this.snapshotsValidFrom = this.snapshotsBegun; // replies to requests sent before a logout are not applied after it
    this.emit([{ type: 'reset' }]);
  }

  private emit(changes: StoreChange[]): void {
    this.version++;
    for (const l of this.listeners) l(changes);
  }
}
