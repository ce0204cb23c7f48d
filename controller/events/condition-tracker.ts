// Turns changes of computed state into events. Host state (Ready /
// NotReady / Gone) and network conditions (Ready, HostsNotReady,
// MtuTooLarge, ...) are computed at read time from the store and the live
// agent connections, partly from the passage of time (a silent host turns
// Gone with no message arriving), so no single write site sees them change:
// this compares them with the last pass, after commits and on a timer.
// The first pass after start is a silent baseline (hosts are all
// disconnected then; their reconnecting is news, that state is not).
import { inject, injectable } from 'inversify';
import type { Condition } from '../../model/meta.js';
import type { HostState } from '../hosts/host-state.js';
import { LiveHosts } from '../hosts/live-hosts.js';
import { StatusView } from '../status/status-view.js';
import { Store } from '../store/store.js';
import { Logger } from '../util/logger.js';
import { EventLog } from './event-log.js';

const TICK_MS = 1000;
/** Commits in a burst (an attach storm) re-read the networks at most this often; the timer catches the rest. */
const MIN_NETWORK_PASS_MS = 250;

const HOST_EVENTS: Record<HostState, { type: 'Normal' | 'Warning'; message: string }> = {
  Ready: { type: 'Normal', message: 'the agent is connected and sending heartbeats' },
  NotReady: { type: 'Warning', message: 'the agent is disconnected or silent: the host keeps its endpoints everywhere while its data plane runs on' },
  Gone: { type: 'Warning', message: 'no agent connection for the grace period: its endpoints are withdrawn from the other hosts' },
};

@injectable()
export class ConditionTracker {
  private hosts = new Map<string, HostState>();
  private networks = new Map<string, string>();
  private fingerprint = '';
  private lastNetworkPass = 0;
  /** Something the network conditions depend on changed since their last pass. */
  private dirty = false;
  private baseline = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private queued = false;
  private readonly log: Logger;

  constructor(
    @inject(Store) private readonly store: Store,
    @inject(StatusView) private readonly status: StatusView,
    @inject(LiveHosts) private readonly live: LiveHosts,
    @inject(EventLog) private readonly events: EventLog,
    @inject(Logger) logger: Logger,
  ) {
    this.log = logger.child({ component: 'condition-tracker' });
  }

  start(): void {
    this.check();
    this.unsubscribe = this.store.onCommit(() => this.queue());
    this.timer = setInterval(() => this.safeCheck(true), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass: record what changed since the last one. force re-reads the networks even right after a pass. */
  check(now = Date.now(), force = true): void {
    const silent = !this.baseline;
    this.baseline = true;
    const hostsChanged = this.checkHosts(now, silent);
    const fingerprint = this.liveFingerprint();
    if (silent || hostsChanged || fingerprint !== this.fingerprint) this.dirty = true;
    this.fingerprint = fingerprint;
    if (!this.dirty || (!force && now - this.lastNetworkPass < MIN_NETWORK_PASS_MS)) return;
    this.dirty = false;
    this.lastNetworkPass = now;
    this.checkNetworks(now, silent);
  }

  private queue(): void {
    if (this.queued) return;
    this.queued = true;
    setImmediate(() => {
      this.queued = false;
      this.safeCheck(false);
    });
  }

  private safeCheck(force: boolean): void {
    try {
      this.check(Date.now(), force);
    } catch (e: unknown) {
      this.log.error({ err: e }, 'condition pass failed');
    }
  }

  /** Store revision and what the agents last said: the inputs of network conditions besides time. */
  private liveFingerprint(): string {
    const parts = [String(this.store.revision())];
    for (const name of this.live.names().sort()) {
      const h = this.live.get(name);
      if (h) parts.push(`${name}:${h.connected ? 1 : 0}:${h.statusAt ?? ''}:${h.appliedRevision ?? ''}:${h.sentRevision ?? ''}`);
    }
    return parts.join('|');
  }

  private checkHosts(now: number, silent: boolean): boolean {
    const next = new Map<string, HostState>();
    let changed = false;
    for (const h of this.store.read((r) => r.listResources('Host'))) {
      const name = h.metadata.name;
      const state = this.status.stateOf(h, now);
      next.set(name, state);
      const before = this.hosts.get(name);
      if (before === state) continue;
      changed = true;
      // A host seen for the first time is news only when it is Ready (an agent connected); Created covers the rest.
      if (silent || (before === undefined && state !== 'Ready')) continue;
      const e = HOST_EVENTS[state];
      this.events.record({ type: e.type, reason: state, message: e.message, involved: { kind: 'Host', name }, time: now });
    }
    if (next.size !== this.hosts.size) changed = true;
    this.hosts = next;
    return changed;
  }

  private checkNetworks(now: number, silent: boolean): void {
    const next = new Map<string, string>();
    for (const [name, c] of this.status.networkConditions()) {
      const key = `${c.type}/${c.status}/${c.reason}`;
      next.set(name, key);
      const before = this.networks.get(name);
      if (silent || before === key) continue;
      // A new network that is fine says nothing (its Created event does); one that starts out False does.
      if (before === undefined && c.status === 'True') continue;
      this.record(name, c, now);
    }
    this.networks = next;
  }

  private record(network: string, c: Condition, now: number): void {
    this.events.record({ type: c.status === 'True' ? 'Normal' : 'Warning', reason: c.reason, message: c.message, involved: { kind: 'Network', name: network }, time: now });
  }
}
