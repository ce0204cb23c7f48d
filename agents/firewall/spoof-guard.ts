// Keeps the anti-spoofing table (guard-ruleset.ts) in line with the host's
// endpoints. An attach admits its port (interface, MAC, address) before the
// veth exists, so the port never sends unchecked, and never sends at all
// before it is admitted (the table drops unknown wv-* ports). Every write
// reads the endpoint records when it runs (not when it was queued), plus the
// ports of attaches in flight (pinned), so a pass can never take out a port
// that was admitted after it started.
//
// The first write of an agent's life replaces the table whole (one
// transaction: a table left by an earlier agent stays in force until then);
// after that, element diffs. A failed write forgets what the kernel holds,
// so the next one replaces the table again, with every recorded port.
import { inject, injectable, optional } from 'inversify';
import { errorMessage } from '../../model/errors.js';
import { AGENT_LOGGER, type AgentLogger } from '../agent-config.js';
import { guardPortKey, type GuardedPort, type SpoofReason } from '../datapath/policy-table-port.js';
import { PORT_GUARD, type PortGuard } from '../datapath/policy-table-port.js';
import { EndpointStore } from '../state/endpoint-store.js';

interface Applied {
  ports: Map<string, GuardedPort>;
  policed: Set<string>;
  noIp6: Set<string>;
}

const setChange = (want: Set<string>, have: Set<string>) => ({ add: [...want].filter((i) => !have.has(i)), remove: [...have].filter((i) => !want.has(i)) });

@injectable()
export class SpoofGuard {
  /** what the kernel holds; undefined: unknown (replace on the next write) */
  private applied: Applied | undefined;
  private readonly pinned = new Map<string, GuardedPort>();
  private policed = new Set<string>();
  private noIp6 = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  /** the last write's failure, for the status; undefined after a success */
  problem: string | undefined;

  constructor(
    @inject(AGENT_LOGGER) private readonly log: AgentLogger,
    @inject(EndpointStore) private readonly store: EndpointStore,
    @inject(PORT_GUARD) @optional() private readonly guard?: PortGuard,
  ) {}

  get enabled(): boolean {
    return this.guard !== undefined;
  }

  /** Let `port` send (as its own MAC and addresses only). Resolves once in the kernel. */
  admit(port: GuardedPort): Promise<void> {
    this.pinned.set(guardPortKey(port), port);
    return this.serial(async (guard, applied) => {
      if (applied === undefined) await this.replaceWith(guard);
      else if (!applied.ports.has(guardPortKey(port))) {
        await guard.update([port], []);
        applied.ports.set(guardPortKey(port), port);
      }
    });
  }

  /** The attach is over (recorded or rolled back): the records speak for the port from now on. */
  unpin(port: GuardedPort, remove: boolean): Promise<void> {
    this.pinned.delete(guardPortKey(port));
    if (!remove) return Promise.resolve();
    return this.serial(async (guard, applied) => {
      if (applied?.ports.has(guardPortKey(port)) && !this.wanted().has(guardPortKey(port))) {
        await guard.update([], [port]);
        applied.ports.delete(guardPortKey(port));
      }
    });
  }

  /**
   * Exactly the recorded ports (plus attaches in flight) may send; `policed`
   * (host interfaces of endpoints with an ingress policy) get no IPv4
   * broadcast or multicast; `noIp6` (those of endpoints any policy applies
   * to) no IPv6.
   */
  sync(policed?: Iterable<string>, noIp6?: Iterable<string>): Promise<void> {
    if (policed !== undefined) this.policed = new Set(policed);
    if (noIp6 !== undefined) this.noIp6 = new Set(noIp6);
    return this.serial(async (guard, applied) => {
      if (applied === undefined) {
        await this.replaceWith(guard);
        return;
      }
      const wanted = this.wanted();
      const add = [...wanted].filter(([k]) => !applied.ports.has(k)).map(([, p]) => p);
      const remove = [...applied.ports].filter(([k]) => !wanted.has(k)).map(([, p]) => p);
      const policedChange = setChange(this.policed, applied.policed);
      const noIp6Change = setChange(this.noIp6, applied.noIp6);
      const changes = add.length + remove.length + policedChange.add.length + policedChange.remove.length + noIp6Change.add.length + noIp6Change.remove.length;
      if (changes === 0) return;
      await guard.update(add, remove, policedChange, noIp6Change);
      this.applied = { ports: wanted, policed: new Set(this.policed), noIp6: new Set(this.noIp6) };
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

  /** Recorded ports as the records say now, plus attaches in flight. */
  private wanted(): Map<string, GuardedPort> {
    const out = new Map<string, GuardedPort>();
    for (const r of this.store.list()) {
      const p = { ifname: r.hostIfname, mac: r.mac, ip: r.ip, ...(r.ip6 === undefined ? {} : { ip6: r.ip6 }) };
      out.set(guardPortKey(p), p);
    }
    for (const [k, p] of this.pinned) out.set(k, p);
    return out;
  }

  private async replaceWith(guard: PortGuard): Promise<void> {
    const ports = this.wanted();
    await guard.replace([...ports.values()], [...this.policed], [...this.noIp6]);
    this.applied = { ports, policed: new Set(this.policed), noIp6: new Set(this.noIp6) };
  }

  private serial(step: (guard: PortGuard, applied: Applied | undefined) => Promise<void>): Promise<void> {
    const guard = this.guard;
    if (!guard) return Promise.resolve();
    const run = async () => {
      try {
        await step(guard, this.applied);
        this.problem = undefined;
      } catch (e: unknown) {
        this.applied = undefined;
        this.problem = errorMessage(e);
        throw e;
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
