// Loans of addresses in this host's blocks (controller/ipam/ipam.ts):
// another host asked for an address in one of our blocks, and the plan
// brings it as a pending reservation. From the moment the plan holds it the
// allocator never hands it out; once nothing here uses it (no record, no
// attach in flight, no old interface being deleted) and the plan holding it
// is on disk (so a restarted agent still excludes it), we tell the
// controller loanConfirmed. While one of our endpoints has it, we stay
// silent: the controller accepts our endpoint and the borrower is refused;
// the check runs again whenever an address is freed here.
import { inject, injectable } from 'inversify';
import type { PlanReservation } from '../../model/agent-protocol.js';
import { AGENT_LOGGER, type AgentLogger } from '../agent-config.js';
import { CONTROLLER_UPLINK, type ControllerUplink } from '../controller-uplink.js';
import { EndpointStore } from '../state/endpoint-store.js';
import { PlanState } from '../state/plan-state.js';
import { BlockAllocator } from './block-allocator.js';

/** A loan is one request: the same address asked for again by another owner is a new one to answer. */
const loanKey = (r: PlanReservation): string => `${r.network}\u0000${r.ip}\u0000${r.owner}`;

@injectable()
export class LoanConfirmer {
  /** Keys of loans confirmed since the last full plan (a new connection confirms again: answers are idempotent). */
  private readonly confirmed = new Set<string>();
  private stops: Array<() => void> = [];

  constructor(
    @inject(PlanState) private readonly plan: PlanState,
    @inject(BlockAllocator) private readonly allocator: BlockAllocator,
    @inject(EndpointStore) private readonly store: EndpointStore,
    @inject(CONTROLLER_UPLINK) private readonly uplink: ControllerUplink,
    @inject(AGENT_LOGGER) private readonly log: AgentLogger,
  ) {}

  /** Synchronous with plan changes: the check runs in the same turn the plan starts excluding the address. */
  start(): void {
    this.stops = [
      this.plan.onChange((_plan, change) => {
        if (change.kind === 'replace') this.confirmed.clear();
        this.check();
      }),
      this.allocator.onFreed(() => this.check()),
    ];
    this.check();
  }

  stop(): void {
    for (const s of this.stops) s();
    this.stops = [];
  }

  /** Confirm every pending loan nothing here uses. */
  check(): void {
    const pending = (this.plan.current()?.reservations ?? []).filter((r) => r.pending);
    const live = new Set(pending.map(loanKey));
    for (const k of this.confirmed) if (!live.has(k)) this.confirmed.delete(k);
    const free: PlanReservation[] = [];
    for (const r of pending) {
      if (this.confirmed.has(loanKey(r))) continue;
      const user = this.allocator.localUser(r.network, r.ip);
      if (user !== undefined) {
        this.log.debug({ network: r.network, ip: r.ip, user }, 'an address another host asked for is in use here; not lending it');
        continue;
      }
      free.push(r);
    }
    if (free.length === 0) return;
    // The exclusion must outlive a crash: the plan that holds these reservations is written before we say yes.
    this.store.flushPlan();
    for (const r of free) {
      this.confirmed.add(loanKey(r));
      this.uplink.send({ type: 'loanConfirmed', network: r.network, ip: r.ip });
      this.log.info({ network: r.network, ip: r.ip, owner: r.owner }, 'lent an address of our block to another host');
    }
  }
}
