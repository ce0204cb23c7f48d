// The host's networks: bridges, VXLAN devices, their forwarding and
// neighbour entries, endpoint ports (repairs, orphans, finished deletes).
// render -> observe -> diff (pure, host-diff.ts and overlay-diff.ts) ->
// apply, in the reconcile loop's full pass; and an incremental pass over
// the overlay entries of the networks a delta touched (a remote endpoint
// or a flood VTEP came or went: the common case, one per attach anywhere),
// scoped to the FDB and neighbour entries of those networks' VXLAN devices
// (two dumps per network, no link listing, no nft), so the change is in the
// kernel within a millisecond or so. Reports each network's readiness.
import { inject, injectable } from 'inversify';
import type { HostPlan } from '../../model/agent-protocol.js';
import { errorMessage } from '../../model/errors.js';
import { BRIDGE_PREFIX, VXLAN_PREFIX } from '../../model/kernel-names.js';
import { AGENT_LOGGER, HOST_HANDLE, type AgentLogger } from '../agent-config.js';
import { BridgeManager } from '../bridges/bridge-manager.js';
import { isNotFound } from '../datapath/errors.js';
import type { AddrInfo, FdbEntry, NeighEntry, NetnsHandle } from '../datapath/port.js';
import { EndpointService } from '../endpoints/endpoint-service.js';
import { OverlayManager } from '../overlay/overlay-manager.js';
import { Underlay } from '../overlay/underlay.js';
import { overlayNetworksTouched } from '../state/plan-changes.js';
import { EndpointStore } from '../state/endpoint-store.js';
import { PlanState, type PlanChange } from '../state/plan-state.js';
import { vnfNetworks } from '../vnf/vnf-host.js';
import { diffHost, renderHost, type HostAction } from './host-diff.js';
import { VXLAN_OVERHEAD, diffOverlayEntries, renderOverlayEntries, type Vtep } from './overlay-diff.js';
import type { ChangeScope, ReconcileTriggers, StatusMessage, SubReconciler } from './sub-reconciler.js';

export interface PassReport {
  revision: number;
  actions: HostAction[];
  failures: { action: HostAction; error: string }[];
}

export interface OverlaySyncReport extends PassReport {
  /** the networks the incremental pass looked at */
  networks: string[];
}

function networkOf(a: HostAction): string | undefined {
  switch (a.op) {
    case 'ensureBridge':
    case 'ensureVxlan':
      return a.network.name;
    case 'removeOrphanVeth':
      return undefined;
    default:
      return a.network;
  }
}

@injectable()
export class NetworkReconciler implements SubReconciler {
  readonly name = 'networks';
  /** Per-network failure of the last full pass, and of incremental passes since. */
  private passProblems = new Map<string, string>();
  private readonly entryProblems = new Map<string, string>();
  private readonly mtuWarned = new Set<string>();
  private triggers: ReconcileTriggers | undefined;
  /** The last full pass's outcome (health and tests read it). */
  lastPass: PassReport | undefined;
  lastOverlaySync: OverlaySyncReport | undefined;

  constructor(
    @inject(AGENT_LOGGER) private readonly log: AgentLogger,
    @inject(HOST_HANDLE) private readonly host: NetnsHandle,
    @inject(EndpointStore) private readonly store: EndpointStore,
    @inject(PlanState) private readonly plan: PlanState,
    @inject(BridgeManager) private readonly bridges: BridgeManager,
    @inject(OverlayManager) private readonly overlay: OverlayManager,
    @inject(Underlay) private readonly underlay: Underlay,
    @inject(EndpointService) private readonly endpoints: EndpointService,
  ) {}

  start(triggers: ReconcileTriggers): () => void {
    this.triggers = triggers;
    const off = [
      // Devices made for the old VTEP are replaced by the next full pass.
      this.underlay.onChange(() => {
        this.overlay.invalidate();
        void triggers.full();
      }),
      // A device was made or checked: program its entries now (an attach waits for this).
      this.overlay.onDevice((network) => triggers.partial([network])),
      // The last endpoint of a network left: its device goes.
      this.endpoints.onNetworkIdle(() => void triggers.full()),
    ];
    return () => {
      for (const f of off) f();
      this.triggers = undefined;
    };
  }

  scope(change: PlanChange): ChangeScope {
    if (change.kind !== 'delta') return 'full';
    return overlayNetworksTouched(change.previous, change.delta) ?? 'full';
  }

  /** The host carries a network: an attached endpoint on it, an attach in progress, or a VNF's interface. */
  private carries(network: string): boolean {
    return this.endpoints.busyNetworks().has(network) || this.store.hasAttached(network) || vnfNetworks(this.plan.current()).has(network);
  }

  async sync(plan: HostPlan | undefined): Promise<void> {
    const links = await this.host.listLinks();
    const bridgeAddrs = new Map<number, AddrInfo[]>();
    const fdb = new Map<number, FdbEntry[]>();
    const neigh = new Map<number, NeighEntry[]>();
    const vxlans = new Map<string, number>();
    for (const l of links) {
      if (l.kind === 'bridge' && l.name.startsWith(BRIDGE_PREFIX)) bridgeAddrs.set(l.index, await this.host.listAddrs(l.index));
      if (l.kind === 'vxlan' && l.name.startsWith(VXLAN_PREFIX)) {
        vxlans.set(l.name, l.index);
        fdb.set(l.index, await this.host.listFdb(l.index));
        neigh.set(l.index, await this.host.listNeigh(l.index));
      }
    }
    // Records and busy names are read together, after the links, so an
    // attach that finished in between is seen as a record, not an orphan.
    const records = this.store.list();
    const busy = this.endpoints.busyHostIfnames();
    const busyNetworks = this.endpoints.busyNetworks();
    for (const n of vnfNetworks(plan)) busyNetworks.add(n); // a VNF's interface carries its networks
    const vtep = this.underlay.current();
    const desired = renderHost(plan, records, { busyNetworks, vtep });
    if (desired.overlay) this.checkMtu(desired.overlay.carried, vtep);
    const actions = diffHost(desired, { links, bridgeAddrs, busy, fdb, neigh });
    const failures: PassReport['failures'] = [];
    for (const action of actions) {
      try {
        await this.apply(action, vxlans);
      } catch (e: unknown) {
        failures.push({ action, error: errorMessage(e) });
        this.log.error({ op: action.op, err: errorMessage(e) }, 'reconcile action failed');
      }
    }
    if (actions.length > 0) this.log.info({ actions: actions.map((a) => a.op), failures: failures.length }, 'reconciled host');
    this.passProblems = problemsOf(failures);
    this.entryProblems.clear();
    this.lastPass = { revision: plan?.revision ?? 0, actions, failures };
  }

  /** The overlay entries of `networks` in line with the plan. */
  async syncPartial(plan: HostPlan, networks: ReadonlySet<string>): Promise<void> {
    const report: OverlaySyncReport = { revision: plan.revision, networks: [...networks], actions: [], failures: [] };
    const vtep = this.underlay.current();
    let deviceMissing = false;
    for (const name of networks) {
      const net = plan.networks.find((n) => n.name === name);
      if (!net || !this.carries(name)) continue; // no device here to program
      this.entryProblems.delete(name);
      const index = await this.overlay.vxlanIndex(net);
      if (index === undefined) {
        deviceMissing = true; // the full pass makes it, entries included
        continue;
      }
      const [fdb, neigh] = [await this.host.listFdb(index), await this.host.listNeigh(index)];
      const actions = diffOverlayEntries(name, net.vxlan, renderOverlayEntries(plan, name, vtep?.address), { fdb, neigh });
      for (const a of actions) {
        report.actions.push(a);
        try {
          await this.overlay.applyEntry(a, index);
        } catch (e: unknown) {
          report.failures.push({ action: a, error: errorMessage(e) });
          this.entryProblems.set(name, `${a.op}: ${errorMessage(e)}`);
          this.log.error({ op: a.op, network: name, err: errorMessage(e) }, 'overlay entry failed');
          if (isNotFound(e)) {
            // The device went away under us: the full pass rebuilds it.
            this.overlay.invalidate(name);
            deviceMissing = true;
            break;
          }
        }
      }
    }
    if (deviceMissing) void this.triggers?.full();
    this.lastOverlaySync = report;
  }

  report(status: StatusMessage, plan: HostPlan): void {
    for (const n of plan.networks) {
      const message = this.passProblems.get(n.name) ?? this.entryProblems.get(n.name);
      status.networks[n.name] = message === undefined ? { ready: true } : { ready: false, message };
    }
  }

  /** The network MTU comes from the controller; an underlay that cannot carry it is worth one loud line. */
  private checkMtu(carried: { name: string; mtu: number }[], vtep: Vtep | undefined): void {
    if (vtep?.mtu === undefined) return;
    for (const n of carried) {
      const key = `${n.name}|${n.mtu}|${vtep.mtu}`;
      if (n.mtu + VXLAN_OVERHEAD <= vtep.mtu || this.mtuWarned.has(key)) continue;
      this.mtuWarned.add(key);
      this.log.error(
        { network: n.name, mtu: n.mtu, underlayMtu: vtep.mtu },
        `network MTU ${n.mtu} needs an underlay MTU of ${n.mtu + VXLAN_OVERHEAD}; this host's is ${vtep.mtu}: large packets will be lost`,
      );
    }
  }

  /** `vxlans`: device name -> ifindex, as observed and as ensured during this pass. */
  private async apply(a: HostAction, vxlans: Map<string, number>): Promise<void> {
    switch (a.op) {
      case 'ensureBridge':
        this.bridges.invalidate(a.network.name); // the cache said fine, the kernel says otherwise
        await this.bridges.ensureBridge(a.network);
        return;
      case 'ensureVxlan': {
        this.overlay.invalidate(a.network.name);
        const bridge = await this.bridges.ensureBridge(a.network);
        const index = await this.overlay.ensureVxlan(a.network, bridge);
        if (index === undefined) vxlans.delete(a.network.vxlan);
        else vxlans.set(a.network.vxlan, index);
        return;
      }
      case 'fdbAdd':
      case 'fdbDel':
      case 'neighReplace':
      case 'neighDel': {
        const index = vxlans.get(a.vxlan);
        if (index === undefined) return; // its ensureVxlan failed and says so
        await this.overlay.applyEntry(a, index);
        return;
      }
      case 'removeVxlan':
        await this.overlay.removeVxlan(a.network, a.link, () => !this.plan.network(a.network) || !this.carries(a.network));
        return;
      case 'repairVeth': {
        if (a.alias !== undefined) await this.host.setLinkAlias(a.link.index, a.alias);
        if (a.masterBridge !== undefined) {
          const net = this.plan.network(a.network);
          if (!net) return;
          const bridge = await this.bridges.ensureBridge(net);
          await this.host.setLinkMaster(a.link.index, bridge);
        }
        return;
      }
      case 'removeOrphanVeth':
        await this.endpoints.removeOrphanVeth(a.link);
        return;
      case 'finishDelete':
        await this.endpoints.finishDelete(a.endpoint);
        return;
      case 'dropRecord':
        await this.endpoints.dropIfLinkGone(a.endpoint);
        return;
      case 'removeBridge':
        await this.bridges.removeBridge(a.link.name, a.link.index, a.network);
        return;
    }
  }
}

function problemsOf(failures: PassReport['failures']): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of failures) {
    const n = networkOf(f.action);
    if (n !== undefined && !out.has(n)) out.set(n, `${f.action.op}: ${f.error}`);
  }
  return out;
}
