// Gives back the blocks of hosts that are gone: no agent connection for the
// block grace period (never shorter than the host grace period, after which
// GoneHostSweeper has already deleted the host's endpoint records) and
// nothing inside the block (no endpoint record, no address reserved for the
// host). A host that comes back adopts the blocks its endpoints are in if
// nobody took them meanwhile; one that comes back empty gets fresh
// pre-grants.
import { inject, injectable } from 'inversify';
import { ControllerConfig } from '../config.js';
import { hostState, parseTime } from '../hosts/host-state.js';
import { LiveHosts } from '../hosts/live-hosts.js';
import { Store, type BlockRow } from '../store/store.js';
import { Logger } from '../util/logger.js';
import { Ipam } from './ipam.js';

@injectable()
export class BlockReclaimer {
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    @inject(Store) private readonly store: Store,
    @inject(Ipam) private readonly ipam: Ipam,
    @inject(LiveHosts) private readonly live: LiveHosts,
    @inject(ControllerConfig) private readonly config: ControllerConfig,
    @inject(Logger) logger: Logger,
  ) {
    this.log = logger.child({ component: 'block-reclaimer' });
  }

  start(): void {
    const tick = Math.max(25, Math.min(30_000, Math.floor(this.graceMs() / 4)));
    this.timer = setInterval(() => {
      try {
        this.sweep();
      } catch (e: unknown) {
        this.log.error({ err: e }, 'block reclaim sweep failed');
      }
    }, tick);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Blocks go no earlier than the host is Gone, whatever the two settings say. */
  private graceMs(): number {
    return Math.max(this.config.hostGoneAfterMs, this.config.blockReclaimGraceMs);
  }

  /** One pass; returns the blocks reclaimed. */
  sweep(now = Date.now()): BlockRow[] {
    return this.store.write((tx) => {
      const reclaimed: BlockRow[] = [];
      const owners = [...new Set(tx.listBlocks().map((b) => b.host))];
      for (const host of owners) {
        const state = hostState({
          live: this.live.get(host),
          persistedLastSeen: parseTime(tx.getResource('Host', host)?.status?.lastHeartbeat),
          now,
          heartbeatTimeoutMs: this.config.heartbeatTimeoutMs,
          graceMs: this.graceMs(),
          startedAt: this.config.startedAt,
        });
        if (state !== 'Gone') continue;
        const gone = this.ipam.reclaimBlocks(tx, host);
        if (gone.length > 0) this.log.info({ host, blocks: gone.map((b) => `${b.network}:${b.cidr}`) }, 'reclaimed blocks of a gone host');
        reclaimed.push(...gone);
      }
      return reclaimed;
    });
  }
}
