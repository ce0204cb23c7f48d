// Network isolation first in every pass: the isolation table must cover
// every bridge before traffic can use it (bridge-manager.ts, the table in
// agents/datapath/nft/isolation-ruleset.ts).
import { inject, injectable } from 'inversify';
import type { HostPlan } from '../../model/agent-protocol.js';
import { errorMessage } from '../../model/errors.js';
import { AGENT_LOGGER, type AgentLogger } from '../agent-config.js';
import { BridgeManager } from '../bridges/bridge-manager.js';
import type { PlanChange } from '../state/plan-state.js';
import type { ChangeScope, SubReconciler } from './sub-reconciler.js';

@injectable()
export class IsolationReconciler implements SubReconciler {
  readonly name = 'isolation';
  private warned = false;

  constructor(
    @inject(AGENT_LOGGER) private readonly log: Pick<AgentLogger, 'error'>,
    @inject(BridgeManager) private readonly bridges: Pick<BridgeManager, 'isolate'>,
  ) {}

  scope(change: PlanChange): ChangeScope {
    if (change.kind !== 'delta') return 'full';
    return change.delta.upsertNetworks.length + change.delta.removeNetworks.length > 0 ? 'full' : 'none';
  }

  async sync(plan: HostPlan | undefined): Promise<void> {
    if (!plan) return;
    try {
      await this.bridges.isolate(plan.networks.map((n) => n.bridge));
    } catch (e: unknown) {
      if (!this.warned) this.log.error({ err: errorMessage(e) }, 'cannot isolate networks from each other with nftables');
      this.warned = true;
    }
  }
}
