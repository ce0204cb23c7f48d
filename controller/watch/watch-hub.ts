// The watch stream's state: every object of WATCH_KINDS as GET returns it,
// status included, and the last changes to it, numbered, for clients to
// follow and resume (see model/watch.ts for the contract).
//
// Status is computed at read time from the store, live agent state and the
// clock, so no single write site sees an object change. The hub therefore
// re-reads everything, as the REST API would, whenever something it depends
// on may have moved (a commit, an agent's report, a recorded event, a slow
// tick for the clock) and diffs against its snapshot, controller-runtime
// style: triggers only mark it dirty; one pass does the work. Triggers in a
// burst (an attach storm, ten agents reporting at once) cost one pass.
//
// A full pass costs what GET of every list costs (see the recompute-cost
// test: ~2-4 ms at 500 endpoints, with StatusView's caches), and it runs on the
// event loop the API shares. So what only time or heartbeats can move is
// checked cheaply first: the Hosts alone are re-read, and the rest only when
// some host's state (Ready / NotReady / Gone) changed, which is all the other
// kinds read of the clock. And passes keep a distance proportional to their
// cost, so watching takes at most about a sixth of the loop; a burst of
// changes (an attach storm) reaches consoles at most four times a second.
//
// It works only while someone watches: nothing until the first subscriber.
// When the last one leaves, the hub pauses: no triggers, no passes, so a
// console closed costs the API nothing. It keeps its state and its changes
// for a retention time, and the next subscriber's first pass numbers what
// changed meanwhile as one diff, so a console that reloads or loses its
// network for a moment still resumes instead of starting over (it misses
// only states that came and went while nobody watched).
import { VNF_KIND_NAMES } from '../planner/vnf-kinds.js';
import type { VnfKindName } from '../../model/vnf-resource.js';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { inject, injectable, optional } from 'inversify';
import type { WeftEvent } from '../../model/events.js';
import type { AnyResource, Kind } from '../../model/kinds.js';
import { WATCH_KINDS, formatPosition, parsePosition, watchKey, type WatchMessage } from '../../model/watch.js';
import { EventLog } from '../events/event-log.js';
import { LiveHosts } from '../hosts/live-hosts.js';
import { StatusView, type Listed } from '../status/status-view.js';
import { Store } from '../store/store.js';
import { Logger } from '../util/logger.js';
import { ChangeRing } from './change-ring.js';
import { diffSnapshots, snapshotOf, type WatchSnapshot } from './watch-diff.js';

export interface WatchHubOptions {
  /** A trigger queues a pass this much later; triggers meanwhile share it (so passes are at least this far apart). */
  coalesceMs: number;
  /** A pass this often regardless, for status that moves with time (a silent host turning NotReady, then Gone). */
  tickMs: number;
  /** Keep the state and its changes this long after the last subscriber leaves (paused), so it can resume. */
  retentionMs: number;
  /** Changes held for resuming. */
  ringSize: number;
  /** Events sent after `synced` on connect. */
  recentEvents: number;
}
/** inversify token for WatchHubOptions (optional: the defaults apply without one). */
export const WatchHubOptions = Symbol('WatchHubOptions');

const DEFAULT_WATCH_HUB_OPTIONS: WatchHubOptions = {
  coalesceMs: 250,
  tickMs: 2_000,
  retentionMs: 5 * 60_000,
  ringSize: 10_000,
  recentEvents: 50,
};

/** A pass waits at least this many times the last full pass's duration after it: passes take at most 1 / (1 + this) of the loop. */
const PASS_SPACING = 5;

type ChangeMessage = Extract<WatchMessage, { type: 'added' | 'modified' | 'deleted' }>;

/** What a pass must re-read: the Hosts (time passed, a heartbeat), or everything. */
type Dirty = 'hosts' | 'all';

const hostState = (o: AnyResource) => (o.kind === 'Host' ? o.status?.state : undefined);

export type WatchSend = (message: WatchMessage) => void;

export interface WatchSubscription {
  /** Stop sending; idempotent. */
  close(): void;
}

export interface WatchHubStats {
  /** Holding state: from the first subscriber until the retention time after the last one left. */
  running: boolean;
  /** Running, but no subscriber: nothing is recomputed until one comes. */
  paused: boolean;
  subscribers: number;
  /** The position of the newest change (of the state held, when running). */
  position: string;
  /** Full passes since this hub was built. */
  recomputes: number;
  /** Passes that re-read only the Hosts (and found no host state changed). */
  hostPasses: number;
  /** How long the last full pass took. */
  lastRecomputeMs: number | undefined;
}

interface Subscriber {
  send: WatchSend;
  closed: boolean;
  /** Events still waiting for the next pass that its catch-up already sent (the recent ones): not sent twice. */
  caughtUp?: Set<WeftEvent>;
}

@injectable()
export class WatchHub {
  /** Names this hub's positions: random, so positions from another run (or another controller) never resume here. */
  readonly epoch = randomBytes(8).readBigUInt64BE().toString(36);
  private readonly options: WatchHubOptions;
  private readonly log: Logger;
  private readonly subscribers = new Set<Subscriber>();
  private readonly ring: ChangeRing<ChangeMessage>;
  private snapshot: WatchSnapshot = new Map();
  /** Store revision the snapshot was read at. */
  private revision = 0;
  private running = false;
  /** Running with the triggers and the tick off (no subscribers): see resumeTracking. */
  private paused = false;
  private untrigger: (() => void)[] = [];
  private pass: NodeJS.Timeout | undefined;
  private dirty: Dirty | undefined;
  /** performance.now() when the last full pass ended. */
  private lastPassEnd = -Infinity;
  private tick: NodeJS.Timeout | undefined;
  private retention: NodeJS.Timeout | undefined;
  /** Events recorded since the last pass: sent with the next one (see follow). */
  private pendingEvents: WeftEvent[] = [];
  private recomputes = 0;
  private hostPasses = 0;
  private lastRecomputeMs: number | undefined;
  /** Kind -> how GET lists it; one entry per kind so a new kind cannot be forgotten here. */
  private readonly listers: Record<Kind, () => Listed<AnyResource>>;

  constructor(
    @inject(StatusView) status: StatusView,
    @inject(Store) private readonly store: Store,
    @inject(LiveHosts) private readonly live: LiveHosts,
    @inject(EventLog) private readonly events: EventLog,
    @inject(Logger) logger: Logger,
    @inject(WatchHubOptions) @optional() options: Partial<WatchHubOptions> = {},
  ) {
    this.options = { ...DEFAULT_WATCH_HUB_OPTIONS, ...options };
    this.ring = new ChangeRing(this.options.ringSize);
    this.log = logger.child({ component: 'watch-hub' });
    this.listers = {
      Host: () => status.listHosts(),
      Network: () => status.listNetworks(),
      Endpoint: () => status.listEndpoints(),
      FirewallPolicy: () => status.listFirewallPolicies(),
      ...(Object.fromEntries(VNF_KIND_NAMES.map((kind) => [kind, () => status.listVnfs(kind)])) as Record<VnfKindName, () => Listed<AnyResource>>),
    };
  }

  /**
   * Start following: the changes after `since` when they are all held,
   * else (`resync` first when a position was given) the whole state as
   * `added`; then `synced`, the recent events, and from then on each
   * pass's changes followed by the events recorded since the pass before.
   * Messages are sent synchronously from here and from the hub's passes;
   * `send` must not block.
   */
  subscribe(since: string | undefined, send: WatchSend): WatchSubscription {
    if (!this.running) this.start();
    else if (this.paused) this.resumeTracking();
    if (this.retention) clearTimeout(this.retention);
    this.retention = undefined;
    // The pending events are the newest, so the catch-up's recent events hold them.
    const sub: Subscriber = { send, closed: false, caughtUp: new Set(this.pendingEvents.slice(-this.options.recentEvents)) };
    this.subscribers.add(sub);
    try {
      this.catchUp(sub, since);
    } catch (e: unknown) {
      // The caller gets no subscription to close: do not keep it (nor the hub) running.
      this.unsubscribe(sub);
      throw e;
    }
    return { close: () => this.unsubscribe(sub) };
  }

  stats(): WatchHubStats {
    return {
      running: this.running,
      paused: this.paused,
      subscribers: this.subscribers.size,
      position: formatPosition(this.epoch, this.ring.last),
      recomputes: this.recomputes,
      hostPasses: this.hostPasses,
      lastRecomputeMs: this.lastRecomputeMs,
    };
  }

  /** Run a full pass now (and cancel a queued one). For tests and measurements; the hub queues its own. */
  recomputeNow(): void {
    if (!this.running) throw new Error('the watch hub is not running: it recomputes only while someone watches');
    this.dirty = 'all';
    this.recompute();
  }

  /** Controller shutdown: stop tracking now; subscribers get nothing more (their sockets are closed by their owner). */
  close(): void {
    for (const s of this.subscribers) s.closed = true;
    this.subscribers.clear();
    if (this.running) this.stop();
  }

  private start(): void {
    // The baseline, read first so a failure leaves nothing running: no changes, the state new subscribers are given.
    const { revision, snapshot } = this.read();
    this.snapshot = snapshot;
    this.revision = revision;
    this.running = true;
    this.follow();
    this.log.debug({ epoch: this.epoch, objects: snapshot.size }, 'watch started');
  }

  /** Turn on what marks the state dirty: commits, agents' reports, events, and the clock's tick. */
  private follow(): void {
    this.paused = false;
    this.untrigger = [
      this.store.onCommit(() => this.mark('all')),
      this.live.onChange((_host, change) => this.mark(change === 'heartbeat' ? 'hosts' : 'all')),
      this.events.onRecord((event) => {
        // Sent with the next pass, after its changes: an attach's event and its endpoint travel together, and a
        // browser takes one message instead of one per event (each costs it more than its size).
        this.pendingEvents.push(event);
        // Events change no object; but one may tell of a host state the clock changed (ConditionTracker): show it soon.
        this.mark('hosts');
      }),
    ];
    this.tick = setInterval(() => this.mark('hosts'), this.options.tickMs);
    this.tick.unref();
  }

  /** Turn follow() off again, and drop a queued pass. */
  private unfollow(): void {
    for (const off of this.untrigger) off();
    this.untrigger = [];
    if (this.pass) clearTimeout(this.pass);
    if (this.tick) clearInterval(this.tick);
    this.pass = this.tick = undefined;
    this.dirty = undefined;
    // Nobody to send them to; a subscriber gets the recent ones from the log.
    this.pendingEvents = [];
  }

  /** The last subscriber left: keep the state and the changes, but do no work until the next one comes. */
  private pause(): void {
    this.unfollow();
    this.paused = true;
  }

  /**
   * A subscriber came to a paused hub: bring the state up to date first, in
   * one pass whose changes are numbered like any other, so a position held
   * from before the pause resumes to the current state.
   */
  private resumeTracking(): void {
    this.full();
    this.follow();
  }

  private stop(): void {
    this.running = false;
    this.unfollow();
    this.paused = false;
    if (this.retention) clearTimeout(this.retention);
    this.retention = undefined;
    this.snapshot = new Map();
    // Changes are not followed from here on: no position held until now can resume.
    this.ring.restart();
    this.log.debug({ epoch: this.epoch }, 'watch stopped');
  }

  private unsubscribe(sub: Subscriber): void {
    if (sub.closed) return;
    sub.closed = true;
    this.subscribers.delete(sub);
    if (this.subscribers.size > 0 || !this.running) return;
    this.pause();
    this.retention = setTimeout(() => {
      this.retention = undefined;
      if (this.subscribers.size === 0) this.stop();
    }, this.options.retentionMs);
    this.retention.unref();
  }

  private catchUp(sub: Subscriber, since: string | undefined): void {
    const send = (m: WatchMessage): boolean => {
      if (sub.closed) return false;
      sub.send(m);
      return true;
    };
    const here = formatPosition(this.epoch, this.ring.last);
    const resumed = since === undefined ? undefined : this.resume(since);
    if (resumed !== undefined && 'changes' in resumed) {
      for (const m of resumed.changes) if (!send(m)) return;
    } else {
      if (resumed !== undefined && !send({ type: 'resync', reason: resumed.reason })) return;
      // read() lists the kinds in WATCH_KINDS order: the snapshot is the full state in the order the contract gives.
      for (const object of this.snapshot.values()) if (!send({ type: 'added', position: here, object })) return;
    }
    if (!send({ type: 'synced', position: here, revision: this.revision })) return;
    for (const event of this.events.list({ limit: this.options.recentEvents })) if (!send({ type: 'event', event })) return;
  }

  private resume(since: string): { changes: ChangeMessage[] } | { reason: string } {
    const p = parsePosition(since);
    if (!p) return { reason: `"${since}" is not a watch position (<epoch>.<seq>)` };
    if (p.epoch !== this.epoch) return { reason: `position ${since} is from another run of the controller (this one is ${this.epoch})` };
    const changes = this.ring.after(p.seq);
    if (changes) return { changes };
    if (p.seq > this.ring.last) return { reason: `position ${since} is ahead of this controller's (${formatPosition(this.epoch, this.ring.last)})` };
    return { reason: `position ${since} is older than the changes this controller keeps (from ${formatPosition(this.epoch, this.ring.floor)})` };
  }

  /** Something may have changed: one pass soon, never inside the trigger (a commit, a report) itself. */
  private mark(level: Dirty): void {
    if (!this.running) return;
    if (this.dirty !== 'all') this.dirty = level;
    if (this.pass) return;
    const spaced = this.lastPassEnd + PASS_SPACING * (this.lastRecomputeMs ?? 0) - performance.now();
    this.pass = setTimeout(() => this.recompute(), Math.max(this.options.coalesceMs, spaced));
    this.pass.unref();
  }

  private recompute(): void {
    if (this.pass) clearTimeout(this.pass);
    this.pass = undefined;
    const level = this.dirty ?? 'all';
    this.dirty = undefined;
    try {
      if (level === 'hosts' && this.hostsOnly()) return;
      this.full();
    } catch (e: unknown) {
      // The next trigger or tick tries again; subscribers keep the last good state meanwhile.
      this.log.error({ err: e }, 'watch pass failed: cannot read the current state');
    } finally {
      const events = this.pendingEvents;
      this.pendingEvents = [];
      for (const event of events) this.broadcast({ type: 'event', event }, (s) => !s.caughtUp?.has(event));
      for (const s of this.subscribers) s.caughtUp = undefined;
    }
  }

  /**
   * Re-read the Hosts alone; true when that was enough: the store has not
   * moved and no host changed state, so no other kind can read differently.
   */
  private hostsOnly(): boolean {
    if (this.store.revision() !== this.revision) return false;
    const hosts = this.listers.Host();
    for (const h of hosts.items) {
      const held = this.snapshot.get(watchKey(h));
      if (held === undefined || hostState(held) !== hostState(h)) return false;
    }
    const next: WatchSnapshot = snapshotOf(hosts.items);
    for (const [key, object] of this.snapshot) if (object.kind !== 'Host') next.set(key, object);
    this.publish(next, hosts.revision);
    this.hostPasses += 1;
    return true;
  }

  private full(): void {
    const t0 = performance.now();
    const { revision, snapshot } = this.read();
    const changes = this.publish(snapshot, revision);
    this.recomputes += 1;
    this.lastPassEnd = performance.now();
    this.lastRecomputeMs = this.lastPassEnd - t0;
    if (changes > 0) this.log.debug({ changes, ms: Math.round(this.lastRecomputeMs), revision }, 'watch pass');
  }

  /** Make `next` the state held: number and send what changed. Returns how many changes. */
  private publish(next: WatchSnapshot, revision: number): number {
    const changes = diffSnapshots(this.snapshot, next);
    this.snapshot = next;
    this.revision = revision;
    for (const c of changes) {
      this.broadcast(this.ring.append((seq) => ({ type: c.type, position: formatPosition(this.epoch, seq), object: c.object })));
    }
    return changes.length;
  }

  /** Every object of WATCH_KINDS as GET lists it, in WATCH_KINDS order, and the store revision read. */
  private read(): { revision: number; snapshot: WatchSnapshot } {
    const objects: AnyResource[] = [];
    let revision = 0;
    for (const kind of WATCH_KINDS) {
      const listed = this.listers[kind]();
      // Each list is one read; nothing commits between them (the store is synchronous), so they agree.
      revision = listed.revision;
      objects.push(...listed.items);
    }
    return { revision, snapshot: snapshotOf(objects) };
  }

  /** Send `m` to every subscriber (`to` says which, when not all). */
  private broadcast(m: WatchMessage, to: (s: Subscriber) => boolean = () => true): void {
    for (const s of [...this.subscribers]) {
      if (s.closed || !to(s)) continue;
      try {
        s.send(m);
      } catch (e: unknown) {
        // A broken subscriber must not starve the others; its owner sees its socket fail too.
        this.log.warn({ err: e }, 'watch subscriber failed to take a message; dropping it');
        this.unsubscribe(s);
      }
    }
  }
}
