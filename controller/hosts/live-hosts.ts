// What the controller knows about agents right now and does not persist:
// connection, last sign of life, and the last status report. Kept in memory
// because heartbeats every few seconds per host would otherwise churn the
// store's revision; a restarted controller relearns it as agents reconnect.
import { injectable } from 'inversify';
import type { FirewallPolicyReport } from '../../model/agent-protocol.js';
import { vnfKey, type VnfReport } from '../../model/vnf-protocol.js';

export interface NetworkReadiness {
  ready: boolean;
  message?: string;
}

export interface LiveHost {
  connected: boolean;
  connectedAt?: number;
  disconnectedAt?: number;
  /** ms since epoch of the last message of any kind (hello, heartbeat, status, ...). */
  lastSeen: number;
  /** ms since epoch of the last hello or heartbeat. */
  lastHeartbeat: number;
  appliedRevision?: number;
  /** Revision of the last plan or delta sent on the current connection. */
  sentRevision?: number;
  networks: Record<string, NetworkReadiness>;
  statusAt?: number;
  /** How the host enforces each FirewallPolicy, from its last status (absent: none reported). */
  firewall?: Record<string, FirewallPolicyReport>;
  /** Anti-spoofing drops by reason, from its last status. */
  spoofDrops?: Record<string, number>;
  /** How the host runs each VNF, by kind/name (vnfKey), from its last status (absent: none reported). */
  vnfs?: Map<string, VnfReport>;
}

/** The parts of a status report beyond network readiness. */
export interface StatusExtras {
  firewall?: Record<string, FirewallPolicyReport> | undefined;
  spoofDrops?: Record<string, number> | undefined;
  vnfs?: VnfReport[] | undefined;
}

/** What changed: a heartbeat moves only the host's own lastHeartbeat; the others can move any status that reads live state. */
export type LiveChange = 'connected' | 'disconnected' | 'heartbeat' | 'sent' | 'status';

/** Told the host whose live state changed and how; called synchronously after the change, so it must be cheap and must not throw. */
export type LiveHostsListener = (host: string, change: LiveChange) => void;

@injectable()
export class LiveHosts {
  private readonly hosts = new Map<string, LiveHost>();
  private readonly listeners = new Set<LiveHostsListener>();

  /**
   * Called after every change readers can see (connect, disconnect,
   * heartbeat, sent plan, status report); not for `seen`, which every agent
   * frame calls and which shows only as staleness, a matter of time that
   * readers must poll for anyway. Returns an unsubscribe function.
   */
  onChange(listener: LiveHostsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(host: string): LiveHost | undefined {
    return this.hosts.get(host);
  }

  names(): string[] {
    return [...this.hosts.keys()];
  }

  connected(host: string, now: number, appliedRevision: number): void {
    // A reconnect starts with no readiness: the agent reports it again after the new plan.
    this.hosts.set(host, { connected: true, connectedAt: now, lastSeen: now, lastHeartbeat: now, appliedRevision, networks: {} });
    this.changed(host, 'connected');
  }

  disconnected(host: string, now: number): void {
    const h = this.hosts.get(host);
    if (!h) return;
    h.connected = false;
    h.disconnectedAt = now;
    this.changed(host, 'disconnected');
  }

  seen(host: string, now: number): void {
    const h = this.hosts.get(host);
    if (h) h.lastSeen = now;
  }

  heartbeat(host: string, now: number): void {
    const h = this.hosts.get(host);
    if (!h) return;
    h.lastSeen = now;
    h.lastHeartbeat = now;
    this.changed(host, 'heartbeat');
  }

  sent(host: string, revision: number): void {
    const h = this.hosts.get(host);
    if (!h) return;
    h.sentRevision = revision;
    this.changed(host, 'sent');
  }

  status(host: string, now: number, appliedRevision: number, networks: Record<string, NetworkReadiness>, extras: StatusExtras = {}): void {
    const h = this.hosts.get(host);
    if (!h) return;
    h.lastSeen = now;
    h.appliedRevision = appliedRevision;
    h.networks = networks;
    h.statusAt = now;
    // Each status replaces the last: a report without them means the agent has none now.
    h.firewall = extras.firewall;
    h.spoofDrops = extras.spoofDrops;
    h.vnfs = extras.vnfs && new Map(extras.vnfs.map((v) => [vnfKey(v), v]));
    this.changed(host, 'status');
  }

  private changed(host: string, change: LiveChange): void {
    for (const l of this.listeners) l(host, change);
  }
}
