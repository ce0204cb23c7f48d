// FirewallPolicy enforcement and anti-spoofing, before anything else of a
// pass changes: every endpoint port guarded, every policy in force. Reports
// per policy what this host enforces and the spoof drops by reason.
import { inject, injectable, optional } from 'inversify';
import type { HostPlan } from '../../model/agent-protocol.js';
import { errorMessage } from '../../model/errors.js';
import { AGENT_LOGGER, type AgentLogger } from '../agent-config.js';
import { PolicyEnforcer } from '../firewall/policy-enforcer.js';
import { SpoofGuard } from '../firewall/spoof-guard.js';
import { EndpointStore } from '../state/endpoint-store.js';
import { firewallTouched } from '../state/plan-changes.js';
import type { PlanChange } from '../state/plan-state.js';
import type { ChangeScope, StatusMessage, SubReconciler } from './sub-reconciler.js';

@injectable()
export class PolicyReconciler implements SubReconciler {
  readonly name = 'policy';
  private spoofDrops: Record<string, number> | undefined;

  constructor(
    @inject(AGENT_LOGGER) private readonly log: Pick<AgentLogger, 'error'>,
    @inject(EndpointStore) private readonly store: Pick<EndpointStore, 'list'>,
    @inject(PolicyEnforcer) @optional() private readonly policies?: PolicyEnforcer,
    @inject(SpoofGuard) @optional() private readonly guard?: SpoofGuard,
  ) {}

  scope(change: PlanChange): ChangeScope {
    if (change.kind !== 'delta') return 'full';
    return firewallTouched(change.delta) ? 'full' : 'none';
  }

  async sync(plan: HostPlan | undefined): Promise<void> {
    // No plan (restarted with the controller away and nothing cached): the table in force stays.
    if (plan && this.policies?.enabled) await this.policies.sync(plan);
    if (this.guard?.enabled) {
      // Ports of endpoints with an ingress policy: no IPv4 broadcast/multicast reaches them (nothing to judge it by).
      const ingress = this.policies?.ingressAddresses() ?? new Set<string>();
      const policed = this.store.list().filter((r) => ingress.has(r.ip)).map((r) => r.hostIfname);
      // Ports of endpoints any policy applies to: no IPv6 (policies judge IPv4 only). While the
      // policies in force are unknown (before the first table, or after nft refused one), every
      // dual-stack port: closed until known, never open because a table failed.
      const any = this.policies?.enabled ? this.policies.policedAddresses() : new Set<string>();
      const noIp6 = this.store.list().filter((r) => (any === undefined ? r.ip6 !== undefined : any.has(r.ip))).map((r) => r.hostIfname);
      try {
        await this.guard.sync(policed, noIp6);
      } catch (e: unknown) {
        this.log.error({ err: errorMessage(e) }, 'cannot write the anti-spoofing table');
      }
      this.policies?.setGuardProblem(this.guard.problem);
    }
  }

  async refreshCounters(): Promise<boolean> {
    if (!this.policies?.enabled && !this.guard?.enabled) return false;
    const moved = (await this.policies?.refreshCounters()) ?? false;
    const drops = await this.guard?.spoofDrops();
    const dropsMoved = drops !== undefined && JSON.stringify(drops) !== JSON.stringify(this.spoofDrops);
    if (drops !== undefined) this.spoofDrops = drops;
    return moved || dropsMoved;
  }

  report(status: StatusMessage, plan: HostPlan): void {
    if (this.policies?.enabled) status.firewall = this.policies.reports(plan);
    if (this.spoofDrops !== undefined) status.spoofDrops = this.spoofDrops;
  }
}
