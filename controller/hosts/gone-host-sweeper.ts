// Withdraws the endpoints of hosts that are Gone (no agent connection for
// hostGoneAfterMs). Until then a silent host is only NotReady and keeps its
// endpoints in everyone's plans: its data plane may well be forwarding on
// through a controller partition. Once Gone, its endpoint records are
// deleted; that one commit takes its remote endpoints and flood entries out
// of every other host's plan (the hub pushes the deltas). The records are
// not needed to bring it back: a reconnecting agent lists every endpoint it
// has in its hello, and the hello re-records them.
//
// The host's address reservations (agent statics) are kept: they are
// promises to containers that may still run on the partitioned host, and
// its hello drops the ones nothing uses. Its blocks stay with it until the
// BlockReclaimer's (longer) grace period, so its endpoints' addresses cannot
// be handed to anyone else in between.
import { inject, injectable } from 'inversify';
import { ControllerConfig } from '../config.js';
import { Store } from '../store/store.js';
import { Logger } from '../util/logger.js';
import { hostState, parseTime } from './host-state.js';
import { LiveHosts } from './live-hosts.js';

@injectable()
export class GoneHostSweeper {
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    @inject(Store) private readonly store: Store,
    @inject(LiveHosts) private readonly live: LiveHosts,
    @inject(ControllerConfig) private readonly config: ControllerConfig,
    @inject(Logger) logger: Logger,
  ) {
    this.log = logger.child({ component: 'gone-host-sweeper' });
  }

  start(): void {
    // A tenth of the grace period, at most a second: withdrawal lags the deadline by no more than that.
    const tick = Math.max(10, Math.min(1000, Math.floor(this.config.hostGoneAfterMs / 10)));
    this.timer = setInterval(() => {
      try {
        this.sweep();
      } catch (e: unknown) {
        this.log.error({ err: e }, 'gone-host sweep failed');
      }
    }, tick);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass; returns the names of the endpoints withdrawn, per host. */
  sweep(now = Date.now()): Map<string, string[]> {
    // Read first: nearly every pass finds nothing, and then takes no write lock.
    const gone = this.store.read((r) => r.listResources('Host').filter((h) => this.isGone(h.metadata.name, h.status?.lastHeartbeat, now) && r.countEndpointRecords({ host: h.metadata.name }) > 0));
    const withdrawn = new Map<string, string[]>();
    if (gone.length === 0) return withdrawn;
    this.store.write((tx) => {
      for (const h of gone) {
        const host = h.metadata.name;
        // Re-check inside the transaction: the agent may have said hello since the read.
        if (!this.isGone(host, tx.getResource('Host', host)?.status?.lastHeartbeat, now)) continue;
        const names: string[] = [];
        for (const rec of tx.listEndpointRecords({ host })) {
          tx.deleteEndpointRecord(rec.metadata.name);
          names.push(rec.metadata.name);
        }
        if (names.length > 0) withdrawn.set(host, names);
      }
    });
    for (const [host, names] of withdrawn) {
      this.log.warn({ host, endpoints: names.length, graceMs: this.config.hostGoneAfterMs }, 'host is gone: its endpoints are withdrawn from every other host');
    }
    return withdrawn;
  }

  private isGone(host: string, persistedLastHeartbeat: string | undefined, now: number): boolean {
    return (
      hostState({
        live: this.live.get(host),
        persistedLastSeen: parseTime(persistedLastHeartbeat),
        now,
        heartbeatTimeoutMs: this.config.heartbeatTimeoutMs,
        graceMs: this.config.hostGoneAfterMs,
        startedAt: this.config.startedAt,
      }) === 'Gone'
    );
  }
}
