// The methods of the runtime RPC, over the agent's services. The
// server hands over params it has only checked to be an object (or absent);
// the shape checks are here and in the endpoint service.
import { inject, injectable } from 'inversify';
import type { HealthResult, RpcMethod, RpcMethods } from '../../model/agent-rpc.js';
import { invalid } from '../../model/errors.js';
import { AGENT_CONFIG, type AgentConfig } from '../agent-config.js';
import { CONTROLLER_UPLINK, type ControllerUplink } from '../controller-uplink.js';
import { parseAttachParams, parseDetachParams, parseHealthParams, parseListParams } from '../endpoints/endpoint-params.js';
import { CniService } from '../cni/cni-service.js';
import { EndpointService, type NetnsHandedOver } from '../endpoints/endpoint-service.js';
import { EndpointStore } from '../state/endpoint-store.js';
import { PlanState } from '../state/plan-state.js';

/** What a handler may ask of the connection its request came on. */
export interface RpcCaller {
  /**
   * Take a copy of the caller's own descriptor `fd`, which must hold a
   * network namespace the caller has at `path`. The copy is closed when
   * the request is done.
   */
  netnsFromFd(fd: number, path: string): NetnsHandedOver;
}

export type RpcHandlerTable = { [M in RpcMethod]: (params: unknown, caller: RpcCaller) => Promise<RpcMethods[M]['result']> };

/** attach params without netnsFd, and netnsFd checked to be a descriptor number. */
function splitNetnsFd(params: unknown): { rest: unknown; netnsFd?: number } {
  if (params === null || typeof params !== 'object' || Array.isArray(params) || !('netnsFd' in params)) return { rest: params };
  const { netnsFd, ...rest } = params as Record<string, unknown>;
  if (typeof netnsFd !== 'number' || !Number.isInteger(netnsFd) || netnsFd < 0 || netnsFd > 0x7fffffff) {
    throw invalid([{ path: '/netnsFd', message: `must be a descriptor number of the calling process (a non-negative integer), got ${JSON.stringify(netnsFd)}` }], 'attach parameters');
  }
  return { rest, netnsFd };
}

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

  /** With netnsFd the namespace is the caller's descriptor, opened here whatever mount namespace its path lives in. */
  async attach(params: unknown, caller: RpcCaller) {
    const { rest, netnsFd } = splitNetnsFd(params);
    const parsed = parseAttachParams(rest, '');
    if (netnsFd === undefined) return this.endpoints.attach(parsed);
    return this.endpoints.attach(parsed, '', caller.netnsFromFd(netnsFd, parsed.netns));
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
