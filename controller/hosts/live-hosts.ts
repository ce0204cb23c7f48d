// What the controller knows about agents right now and does not persist:
// connection, last sign of life, and the last status report. Kept in memory
// because heartbeats every few seconds per host would otherwise churn the
// store's revision; a restarted controller relearns it as agents reconnect.
import { injectable } from 'inversify';

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
}

@injectable()
export class LiveHosts {
  private readonly hosts = new Map<string, LiveHost>();

  get(host: string): LiveHost | undefined {
    return this.hosts.get(host);
  }

  names(): string[] {
    return [...this.hosts.keys()];
  }

  connected(host: string, now: number, appliedRevision: number): void {
    // A reconnect starts with no readiness: the agent reports it again after the new plan.
    this.hosts.set(host, { connected: true, connectedAt: now, lastSeen: now, lastHeartbeat: now, appliedRevision, networks: {} });
  }

  disconnected(host: string, now: number): void {
    const h = this.hosts.get(host);
    if (!h) return;
    h.connected = false;
    h.disconnectedAt = now;
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
  }

  sent(host: string, revision: number): void {
    const h = this.hosts.get(host);
    if (h) h.sentRevision = revision;
  }

  status(host: string, now: number, appliedRevision: number, networks: Record<string, NetworkReadiness>): void {
    const h = this.hosts.get(host);
    if (!h) return;
    h.lastSeen = now;
    h.appliedRevision = appliedRevision;
    h.networks = networks;
    h.statusAt = now;
  }
}
