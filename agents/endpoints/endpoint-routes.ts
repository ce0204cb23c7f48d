// Endpoint route sync: the routes through VNFs (plan.networkRoutes), in
// the endpoints' namespaces.
//
// A firewall guarding networks A and B routes between them: every endpoint on A gets a route to B's subnet via
// the firewall's address on A (and the other way round). Chosen over
// routing through the host namespace because weft's isolation table drops
// every packet the host namespace would forward between two weft bridges:
// here a packet goes workload -> bridge A -> firewall namespace -> bridge B
// -> workload, bridged (never routed) in the host namespace, so isolation
// stays whole and the firewall sees every packet between the networks it
// guards. The routes come with the plan (networkRoutes, for every host:
// endpoints of a guarded network may be anywhere); attach installs them with
// the default route, and each full pass brings existing endpoints in line.
//
// A router connects networks the same way (and static routes' destinations
// and, with a way out, 0.0.0.0/1 + 128.0.0.0/1 via the router: the
// endpoint's own default route stays).
//
// Ownership: weft manages, on an endpoint's interface, the gatewayed routes
// whose destination is the subnet of a network in the plan, one of the
// halves of the address space, a destination some VNF gives a route to, or
// one this agent installed on that endpoint (a static route since removed);
// anything else in the workload's routing table is not ours and is never
// touched. (After an agent restart, a route to a static destination removed
// while the agent was down is no longer known as ours and stays.)
import { inject, injectable } from 'inversify';
import type { HostPlan } from '../../model/agent-protocol.js';
import { errorMessage } from '../../model/errors.js';
import { ROUTER_HALF_DEFAULTS } from '../../model/router.js';
import { AGENT_LOGGER, type AgentLogger } from '../agent-config.js';
import { isNotFound } from '../datapath/errors.js';
import { DATAPATH_FACTORY, type DatapathFactory, type RouteInfo } from '../datapath/port.js';
import type { EndpointRecord } from '../state/endpoint-store.js';

/** The extra routes the endpoints of `network` get, as `ip route` would take them (oif filled in by the caller). */
export function endpointRoutesFor(plan: HostPlan | undefined, network: string): Array<{ dst: string; via: string }> {
  return (plan?.networkRoutes ?? [])
    .filter((r) => r.network === network)
    .map((r) => ({ dst: r.dst, via: r.via }))
    .sort((a, b) => (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
}

export interface RouteAction {
  op: 'add' | 'del';
  route: RouteInfo;
}

/** Pure: what to change in one endpoint's routes (`current`: its namespace's IPv4 routes). */
export function diffEndpointRoutes(want: ReadonlyArray<{ dst: string; via: string }>, current: readonly RouteInfo[], oif: number, managed: ReadonlySet<string>): RouteAction[] {
  const actions: RouteAction[] = [];
  const wanted = new Map(want.map((w) => [w.dst, w.via]));
  for (const r of current) {
    if (r.oif !== oif || r.gateway === undefined || !managed.has(r.dst)) continue;
    if (wanted.get(r.dst) !== r.gateway) actions.push({ op: 'del', route: { dst: r.dst, gateway: r.gateway, oif, family: 4 } });
  }
  for (const w of want) {
    if (!current.some((r) => r.dst === w.dst && r.gateway === w.via && r.oif === oif)) actions.push({ op: 'add', route: { dst: w.dst, gateway: w.via, oif, family: 4 } });
  }
  return actions;
}

/**
 * Keeps the endpoints' routes in line with the plan. Remembers what each
 * endpoint was last brought to, so a pass opens only the namespaces of
 * endpoints whose routes changed (every one once after a restart).
 */
@injectable()
export class EndpointRoutes {
  private readonly done = new Map<string, string>();
  /** endpoint -> the destinations this agent last brought it to (so one the plan dropped is still known as ours) */
  private readonly installed = new Map<string, ReadonlySet<string>>();

  constructor(
    @inject(DATAPATH_FACTORY) private readonly datapath: Pick<DatapathFactory, 'at'>,
    @inject(AGENT_LOGGER) private readonly log: Pick<AgentLogger, 'error'>,
  ) {}

  /**
   * Returns the endpoints whose namespace could not be opened because it is
   * not there: not an error here, the reaper's (reconcile/endpoint-reaper.ts).
   */
  async sync(plan: HostPlan, records: readonly EndpointRecord[]): Promise<string[]> {
    const missing: string[] = [];
    const base = new Set<string>([...plan.networks.map((n) => n.subnet), ...ROUTER_HALF_DEFAULTS, ...(plan.networkRoutes ?? []).map((r) => r.dst)]);
    const baseText = [...base].sort().join(',');
    const seen = new Set<string>();
    for (const r of records) {
      if (r.state !== 'attached') continue;
      seen.add(r.name);
      const want = endpointRoutesFor(plan, r.network);
      const signature = `${r.netns}\u0000${JSON.stringify(want)}\u0000${baseText}`;
      if (this.done.get(r.name) === signature) continue;
      const managed = new Set([...base, ...(this.installed.get(r.name) ?? [])]);
      try {
        await this.syncOne(r, want, managed);
        this.done.set(r.name, signature);
        this.installed.set(r.name, new Set(want.map((w) => w.dst)));
      } catch (e: unknown) {
        this.done.delete(r.name);
        if (isNotFound(e)) missing.push(r.name);
        else this.log.error({ endpoint: r.name, err: errorMessage(e) }, 'endpoint routes not updated; retrying on the next pass');
      }
    }
    for (const name of [...this.done.keys()]) if (!seen.has(name)) this.done.delete(name);
    for (const name of [...this.installed.keys()]) if (!seen.has(name)) this.installed.delete(name);
    return missing;
  }

  private async syncOne(r: EndpointRecord, want: Array<{ dst: string; via: string }>, managed: ReadonlySet<string>): Promise<void> {
    const ns = await this.datapath.at(r.netns);
    try {
      const link = await ns.getLink(r.ifname);
      if (!link) return; // the reconciler drops records whose interface is gone
      for (const a of diffEndpointRoutes(want, await ns.listRoutes(4), link.index, managed)) {
        if (a.op === 'del') await ns.routeDel(a.route);
        else await ns.routeReplace(a.route);
      }
    } finally {
      ns.close();
    }
  }
}
