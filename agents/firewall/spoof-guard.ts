// Keeps the anti-spoofing table (guard-ruleset.ts) in line with the host's
// endpoints. An attach admits its port (interface, MAC, address) before the
// veth exists, so the port never sends unchecked, and never sends at all
// before it is admitted (the table drops unknown wv-* ports). The reconciler
// syncs the whole set from the endpoint records on every pass; ports of
// attaches in flight are pinned so a pass cannot take them out.
//
// The first write of an agent's life replaces the table whole (one
// transaction: a table left by an earlier agent stays in force until then);
// after that, element diffs. A failed write forgets what the kernel holds,
// so the next one replaces the table again.
import { inject, injectable, optional } from 'inversify';
import { errorMessage } from '../../model/errors.js';
import { AGENT_LOGGER, type AgentLogger } from '../agent-config.js';
import { guardPortKey, type GuardedPort, type SpoofReason } from '../datapath/nft/guard-ruleset.js';
import { PORT_GUARD, type PortGuard } from '../datapath/policy-table-port.js';

@injectable()
export class SpoofGuard {
  /** what the kernel holds; undefined: unknown (replace on the next write) */
  private applied: Map<string, GuardedPort> | undefined;
  private readonly pinned = new Map<string, GuardedPort>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    @inject(AGENT_LOGGER) private readonly log: AgentLogger,
    @inject(PORT_GUARD) @optional() private readonly guard?: PortGuard,
  ) {}

  get enabled(): boolean {
    return this.guard !== undefined;
  }

  /** Let `port` send (as its own MAC and address only). Resolves once in the kernel. */
  admit(port: GuardedPort): Promise<void> {
    this.pinned.set(guardPortKey(port), port);
    return this.serial(async (guard) => {
      if (this.applied === undefined) await this.replaceWith(guard, [...this.pinned.values()]);
      else if (!this.applied.has(guardPortKey(port))) {
        await guard.update([port], []);
        this.applied.set(guardPortKey(port), port);
      }
    });
  }

  /** The attach is over (recorded or rolled back): the records speak for the port from now on. */
  unpin(port: GuardedPort, remove: boolean): Promise<void> {
    this.pinned.delete(guardPortKey(port));
    if (!remove) return Promise.resolve();
    return this.serial(async (guard) => {
      if (this.applied?.has(guardPortKey(port))) {
        await guard.update([], [port]);
        this.applied.delete(guardPortKey(port));
      }
    });
  }

  /** Exactly the recorded ports (plus attaches in flight) may send. */
  sync(recorded: readonly GuardedPort[]): Promise<void> {
    return this.serial(async (guard) => {
      const wanted = new Map<string, GuardedPort>();
      for (const p of [...recorded, ...this.pinned.values()]) wanted.set(guardPortKey(p), p);
      if (this.applied === undefined) {
        await this.replaceWith(guard, [...wanted.values()]);
        return;
      }
      const add = [...wanted].filter(([k]) => !this.applied?.has(k)).map(([, p]) => p);
      const remove = [...this.applied].filter(([k]) => !wanted.has(k)).map(([, p]) => p);
      if (add.length === 0 && remove.length === 0) return;
      await guard.update(add, remove);
      this.applied = wanted;
    });
  }

  async spoofDrops(): Promise<Record<SpoofReason, number> | undefined> {
    if (!this.guard) return undefined;
    try {
      return await this.guard.spoofDrops();
    } catch (e: unknown) {
      this.log.warn({ err: errorMessage(e) }, 'cannot read anti-spoofing counters');
      return undefined;
    }
  }

  private async replaceWith(guard: PortGuard, ports: GuardedPort[]): Promise<void> {
    await guard.replace(ports);
    this.applied = new Map(ports.map((p) => [guardPortKey(p), p]));
  }

  private serial(step: (guard: PortGuard) => Promise<void>): Promise<void> {
    const guard = this.guard;
    if (!guard) return Promise.resolve();
    const run = async () => {
      try {
        await step(guard);
      } catch (e: unknown) {
        this.applied = undefined;
        throw e;
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
