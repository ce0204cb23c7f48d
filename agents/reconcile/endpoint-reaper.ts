// Endpoints whose workload is gone without a detach: the runtime removed
// the namespace while the agent was down (or never said so). Their records
// would otherwise stay forever, with their addresses, their bridge ports
// and their entries on every other host. Each full pass (the first one at
// start, the periodic resync, and one asked for when a pass finds a
// namespace missing) looks at every attached endpoint's namespace
// (agents/endpoints/netns-gone.ts: the path missing, or naming another
// namespace than the one attached to) and detaches those that are gone,
// the way a detach would: host veth and bridge port, address, the
// controller told (which withdraws it from every other host and from the
// policies' address sets). An attach or detach in flight for the same
// container is never raced (EndpointService.reap). Runs before the
// networks' pass, so a network whose last endpoint went loses its devices
// in the same pass; asks for one more pass after reaping, for the
// sub-reconcilers that ran before it (the anti-spoofing guard's entries).
import { inject, injectable } from 'inversify';
import { errorMessage } from '../../model/errors.js';
import { AGENT_LOGGER, type AgentLogger } from '../agent-config.js';
import { DATAPATH_FACTORY, type DatapathFactory } from '../datapath/port.js';
import { EndpointService } from '../endpoints/endpoint-service.js';
import { netnsCheckPath, netnsGoneReason } from '../endpoints/netns-gone.js';
import { EndpointStore, type EndpointRecord } from '../state/endpoint-store.js';
import type { ChangeScope, ReconcileTriggers, SubReconciler } from './sub-reconciler.js';

@injectable()
export class EndpointReaper implements SubReconciler {
  readonly name = 'endpoint-reaper';
  private triggers: ReconcileTriggers | undefined;

  constructor(
    @inject(EndpointStore) private readonly store: Pick<EndpointStore, 'list'>,
    @inject(EndpointService) private readonly endpoints: Pick<EndpointService, 'reap'>,
    @inject(DATAPATH_FACTORY) private readonly datapath: Pick<DatapathFactory, 'netnsId'>,
    @inject(AGENT_LOGGER) private readonly log: Pick<AgentLogger, 'debug'>,
  ) {}

  start(triggers: ReconcileTriggers): () => void {
    this.triggers = triggers;
    return () => (this.triggers = undefined);
  }

  /** No plan change concerns it: it runs with every full pass. */
  scope(): ChangeScope {
    return 'none';
  }

  async sync(): Promise<void> {
    const attached = this.store.list({ state: 'attached' });
    const gone = await Promise.all(attached.map(async (r) => ((await this.whyGone(r)) === undefined ? undefined : r)));
    let reaped = false;
    for (const r of gone) if (r && (await this.endpoints.reap(r.name, (now) => this.whyGone(now)))) reaped = true;
    if (reaped) void this.triggers?.full();
  }

  private async whyGone(r: EndpointRecord): Promise<string | undefined> {
    try {
      return netnsGoneReason(r, await this.datapath.netnsId(netnsCheckPath(r)));
    } catch (e: unknown) {
      // Cannot tell (e.g. EACCES): not gone. Quiet, or it would log every pass.
      this.log.debug({ endpoint: r.name, netns: r.netns, err: errorMessage(e) }, 'cannot check the endpoint namespace');
      return undefined;
    }
  }
}
