// The methods of the runtime RPC, over the agent's services. The
// server hands over params it has only checked to be an object (or absent);
// the shape checks are here and in the endpoint service.
import { inject, injectable } from 'inversify';
import type { HealthResult, RpcMethod, RpcMethods } from '../../model/agent-rpc.js';
import { AGENT_CONFIG, type AgentConfig } from '../agent-config.js';
import { CONTROLLER_UPLINK, type ControllerUplink } from '../controller-uplink.js';
import { parseAttachParams, parseDetachParams, parseHealthParams, parseListParams } from '../endpoints/endpoint-params.js';
import { CniService } from '../cni/cni-service.js';
import { EndpointService } from '../endpoints/endpoint-service.js';
import { EndpointStore } from '../state/endpoint-store.js';
import { PlanState } from '../state/plan-state.js';

export type RpcHandlerTable = { [M in RpcMethod]: (params: unknown) => Promise<RpcMethods[M]['result']> };

export const RPC_HANDLERS = Symbol.for('weft.RpcHandlers');

@injectable()
export class AgentRpcHandlers implements RpcHandlerTable {
  constructor(
    @inject(AGENT_CONFIG) private readonly config: Pick<AgentConfig, 'name'>,
    @inject(EndpointService) private readonly endpoints: EndpointService,
    @inject(EndpointStore) private readonly store: EndpointStore,
    @inject(PlanState) private readonly plan: PlanState,
    @inject(CONTROLLER_UPLINK) private readonly uplink: ControllerUplink,
    @inject(CniService) private readonly cniService: CniService,
  ) {}

  /** A CNI plugin exec relayed by the shim; CNI failures come back as the result, not as an RPC error. */
  cni(params: unknown) {
    return this.cniService.call(params);
  }

  attach(params: unknown) {
    return this.endpoints.attach(parseAttachParams(params, ''));
  }

  detach(params: unknown) {
    return this.endpoints.detach(parseDetachParams(params, ''));
  }

  async list(params: unknown) {
    return this.endpoints.list(parseListParams(params, ''));
  }

  async health(params: unknown): Promise<HealthResult> {
    parseHealthParams(params, '');
    const plan = this.plan.current();
    return {
      host: this.config.name,
      controller: this.uplink.connected ? 'connected' : 'disconnected',
      planRevision: plan?.revision ?? 0,
      endpoints: this.store.countAttached(),
      networks: plan?.networks.map((n) => n.name) ?? [],
    };
  }
}
