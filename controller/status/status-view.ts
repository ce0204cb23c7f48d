// Read side of the REST API: resources as users see them, with status
// computed at read time from the store (allocations, records) and from live
// agent state (connections, readiness reports). Nothing here writes.
import { inject, injectable, optional } from 'inversify';
import { WeftError } from '../../model/errors.js';
import { intToIpv4 } from '../../model/ip.js';
import { bridgeName } from '../../model/kernel-names.js';
import type { WeftEvent } from '../../model/events.js';
import type { Condition } from '../../model/meta.js';
import type { Endpoint, FirewallPolicy, Host, HostStatus, Network, NetworkStatus } from '../../model/kinds.js';
import { ControllerConfig } from '../config.js';
import { EventLog, type EventQuery } from '../events/event-log.js';
import { hostState, parseTime, type HostState } from '../hosts/host-state.js';
import { LiveHosts } from '../hosts/live-hosts.js';
import { endpointLabels, recordRealises } from '../hub/endpoint-record.js';
import { addressSpaceOf } from '../ipam/address-space.js';
import { FirewallPlanner, type FirewallEndpoint } from '../planner/firewall-planner.js';
import { DEFAULT_UNDERLAY_MTU, VXLAN_OVERHEAD, networkMtu } from '../planner/host-planner.js';
import { hostsTooSmallFor } from '../planner/mtu-limit.js';
import { planEndpointsOf } from '../planner/plan-input.js';
import { Store, type ResourceOf, type StoreReader } from '../store/store.js';
import { firewallPolicyStatus, type PolicyCarrier } from './firewall-policy-status.js';
import { vnfInputs, vnfStatus } from './vnf-status.js';
import type { VnfKindName, VnfResource } from '../../model/vnf-resource.js';
import type { LabelPredicate } from './label-selector.js';

export interface Listed<T> {
  revision: number;
  items: T[];
}

export interface EndpointQuery {
  network?: string;
  host?: string;
  selector?: LabelPredicate;
}

type PerHost = NonNullable<NetworkStatus['hosts']>[string];

interface NetworkInputs {
  hosts: Host[];
  /** network -> endpoints (declared and attached, as listed) */
  endpoints: Map<string, number>;
  /** network -> hosts holding an endpoint record on it */
  carriers: Map<string, Set<string>>;
}

/** The store's policies and selectable endpoints as read at one revision (each read when first needed). */
interface PolicySnapshot {
  revision: number;
  /** policies read one by one (undefined: no such policy) */
  byName: Map<string, FirewallPolicy | undefined>;
  /** every policy, once listed */
  all?: FirewallPolicy[];
  endpoints?: readonly FirewallEndpoint[];
}

function condition(status: Condition['status'], reason: string, message: string, at: number | string | undefined): Condition {
  const time = typeof at === 'string' ? at : new Date(at ?? Date.now()).toISOString();
  return { type: 'Ready', status, reason, message, lastTransitionTime: time };
}

/**
 * Ready False / MtuTooLarge when some host's underlay cannot carry the
 * network's explicit MTU. Writes refuse such an MTU, so this only happens
 * when a host joins (or its underlay shrinks) afterwards; the host is not
 * refused and its plan keeps spec.mtu (see networkMtu), so this condition
 * is where the mismatch shows. It outranks readiness: the devices may all
 * be up while large packets are lost.
 */
function mtuCondition(net: Network, hosts: Host[], at: number | string | undefined): Condition | undefined {
  const tooSmall = hostsTooSmallFor(net, hosts);
  if (tooSmall.length === 0) return undefined;
  const max = Math.min(...tooSmall.map((t) => t.underlayMtu)) - VXLAN_OVERHEAD;
  const shown = tooSmall.slice(0, 5).map((t) => `host "${t.host}" (underlay MTU ${t.underlayMtu})`).join(', ');
  const more = tooSmall.length > 5 ? ` (and ${tooSmall.length - 5} more)` : '';
  return condition(
    'False',
    'MtuTooLarge',
    `mtu ${net.spec.mtu} is larger than ${shown}${more} can carry with ${VXLAN_OVERHEAD} bytes of VXLAN overhead: packets larger than ${max} bytes to or from ${tooSmall.length === 1 ? 'that host' : 'those hosts'} may be lost; set mtu to at most ${max} or raise the underlay MTU`,
    at,
  );
}

/** A declared endpoint's view with the labels its agent reported under its own (what selectors match, see endpointLabels). */
function withRecordLabels(declared: Endpoint, record: Endpoint): Endpoint {
  const labels = endpointLabels(record, declared);
  if (!labels) return declared;
  return { ...declared, metadata: { ...declared.metadata, labels } };
}

@injectable()
export class StatusView {
  constructor(
    @inject(Store) private readonly store: Store,
    @inject(LiveHosts) private readonly live: LiveHosts,
    @inject(ControllerConfig) private readonly config: ControllerConfig,
    // Optional so a view built by hand (tests) works without one; main.ts binds the controller's log.
    @inject(EventLog) @optional() private readonly eventLog: EventLog = new EventLog(),
  ) {}

  /** network name -> the last generation seen realised on all its hosts (this process's memory). */
  private readonly realised = new Map<string, { uid: string | undefined; generation: number }>();
  /** See policySnapshot. */
  private policiesAt: PolicySnapshot | undefined;
  /** See endpointViews. */
  private endpointsAt: { revision: number; views: Endpoint[] } | undefined;
  /** See endpointRecords. */
  private readonly recordCopies = new Map<string, { revision: number; record: Endpoint }>();
  /** See cachedView. */
  private readonly viewCopies = new Map<string, { key: string; view: Endpoint }>();

  /** Recent events, oldest first (GET /api/v1/events). */
  listEvents(q: EventQuery = {}): WeftEvent[] {
    return this.eventLog.list(q);
  }

  listNetworks(): Listed<Network> {
    return this.store.read((r) => {
      // Read once for all networks: per network, listing every endpoint view cost networks x endpoints (~90 ms at 20 x 500).
      const inputs = this.networkInputs(r);
      return { revision: r.revision(), items: r.listResources('Network').map((n) => this.networkView(r, n, inputs)) };
    });
  }

  getNetwork(name: string): Network {
    return this.store.read((r) => {
      const n = r.getResource('Network', name);
      if (!n) throw new WeftError('NotFound', `network "${name}" does not exist`);
      return this.networkView(r, n);
    });
  }

  listEndpoints(q: EndpointQuery = {}): Listed<Endpoint> {
    return this.store.read((r) => ({
      revision: r.revision(),
      items: this.endpointViews(r).filter(
        (e) => (q.network === undefined || e.spec.network === q.network) && (q.host === undefined || e.spec.host === q.host) && (q.selector?.(e.metadata.labels) ?? true),
      ),
    }));
  }

  getEndpoint(name: string): Endpoint {
    const found = this.store.read((r) => this.endpointViews(r).find((e) => e.metadata.name === name));
    if (!found) throw new WeftError('NotFound', `endpoint "${name}" does not exist`);
    return found;
  }

  listHosts(): Listed<Host> {
    return this.store.read((r) => ({ revision: r.revision(), items: r.listResources('Host').map((h) => this.hostView(r, h)) }));
  }

  getHost(name: string): Host {
    return this.store.read((r) => {
      const h = r.getResource('Host', name);
      if (!h) throw new WeftError('NotFound', `host "${name}" does not exist`);
      return this.hostView(r, h);
    });
  }

  /** Policies with their status (see firewall-policy-status.ts), optionally those whose labels match `selector`. */
  listFirewallPolicies(selector?: LabelPredicate): Listed<FirewallPolicy> {
    return this.store.read((r) => {
      const at = this.policySnapshot(r);
      at.all ??= r.listResources('FirewallPolicy');
      const policies = at.all.filter((p) => selector?.(p.metadata.labels) ?? true);
      // No policy, nothing to plan: the endpoints are not even read (the watch lists policies on every pass).
      if (policies.length === 0) return { revision: r.revision(), items: [] };
      const planner = new FirewallPlanner(policies, (at.endpoints ??= this.planEndpoints(r)));
      const hosts = r.listResources('Host');
      return { revision: r.revision(), items: policies.map((p) => this.firewallPolicyView(p, planner, hosts)) };
    });
  }

  getFirewallPolicy(name: string): FirewallPolicy {
    return this.store.read((r) => {
      const at = this.policySnapshot(r);
      if (!at.byName.has(name)) at.byName.set(name, at.all ? at.all.find((x) => x.metadata.name === name) : r.getResource('FirewallPolicy', name));
      const p = at.byName.get(name);
      if (!p) throw new WeftError('NotFound', `firewallpolicy "${name}" does not exist`);
      return this.firewallPolicyView(p, new FirewallPlanner([p], (at.endpoints ??= this.planEndpoints(r))), r.listResources('Host'));
    });
  }

  /** The planner's endpoints (plan-input.ts), from the records parsed once (endpointRecords). */
  private planEndpoints(r: StoreReader): readonly FirewallEndpoint[] {
    return planEndpointsOf(this.endpointRecords(r).map((x) => x.record), r.listResources('Endpoint'));
  }

  /**
   * What policy views read from the store, kept for one store revision:
   * pollers (`weft wait`) read a policy of thousands of rules again and
   * again while nothing is written, and parsing it is most of a read.
   * Sound because a revision names one committed state and no read runs
   * inside a write; the stored objects are only spread into views, never
   * changed.
   */
  private policySnapshot(r: StoreReader): PolicySnapshot {
    const revision = r.revision();
    if (this.policiesAt?.revision !== revision) this.policiesAt = { revision, byName: new Map() };
    return this.policiesAt;
  }

  /** VNFs of one kind with their status (see vnf-status.ts). */
  listVnfs<K extends VnfKindName>(kind: K, selector?: LabelPredicate): Listed<ResourceOf<K>> {
    return this.store.read((r) => ({
      revision: r.revision(),
      items: (r.listResources(kind) as VnfResource[]).filter((v) => selector?.(v.metadata.labels) ?? true).map((v) => this.vnfView(r, v) as ResourceOf<K>),
    }));
  }

  getVnf<K extends VnfKindName>(kind: K, name: string): ResourceOf<K> {
    return this.store.read((r) => {
      const v = r.getResource(kind, name) as VnfResource | undefined;
      if (!v) throw new WeftError('NotFound', `${kind.toLowerCase()} "${name}" does not exist`);
      return this.vnfView(r, v) as ResourceOf<K>;
    });
  }

  private vnfView<R extends VnfResource>(r: StoreReader, vnf: R): R {
    const host = r.getResource('Host', vnf.spec.host);
    const gone = host !== undefined && this.stateOf(host) === 'Gone';
    return { ...vnf, status: vnfStatus(vnf, vnfInputs(r, vnf, this.live.get(vnf.spec.host), gone)) };
  }

  /** Ready / NotReady / Gone for one host. */
  stateOf(host: Host, now = Date.now()): HostState {
    return hostState({
      live: this.live.get(host.metadata.name),
      persistedLastSeen: parseTime(host.status?.lastHeartbeat),
      now,
      heartbeatTimeoutMs: this.config.heartbeatTimeoutMs,
      graceMs: this.config.hostGoneAfterMs,
      startedAt: this.config.startedAt,
    });
  }

  /**
   * Every endpoint as GET shows it. They depend on the store alone, so one
   * list serves every read at the same revision (a watch pass lists networks
   * and endpoints; REST reads between commits). Callers never change them.
   */
  private endpointViews(r: StoreReader): Endpoint[] {
    const revision = r.revision();
    if (this.endpointsAt?.revision === revision) return this.endpointsAt.views;
    const views = this.buildEndpointViews(r);
    this.endpointsAt = { revision, views };
    return views;
  }

  /**
   * All endpoint records, as listEndpointRecords gives them, but parsed only
   * when written since the last read: at 500 endpoints, parsing them all
   * was most of a read, and the watch and GET read after every attach. The
   * copies are this view's own, only ever spread into views, never changed.
   */
  private endpointRecords(r: StoreReader): Array<{ record: Endpoint; revision: number }> {
    const out: Array<{ record: Endpoint; revision: number }> = [];
    const present = new Set<string>();
    for (const { name, revision } of r.listEndpointRecordRevisions()) {
      present.add(name);
      let copy = this.recordCopies.get(name);
      if (copy?.revision !== revision) {
        const record = r.getEndpointRecord(name);
        if (!record) continue; // not possible within one read; skipped rather than trusted
        copy = { revision, record };
        this.recordCopies.set(name, copy);
      }
      out.push(copy);
    }
    for (const name of this.recordCopies.keys()) if (!present.has(name)) this.recordCopies.delete(name);
    return out;
  }

  /**
   * The view last built under `id` when it was built from the same inputs
   * (`key`: their revisions), else a new one. The same inputs give the same
   * view, and handing out the same object lets the watch see "unchanged"
   * without serializing it again. Only views of this build are kept.
   */
  private cachedView(id: string, key: string, build: () => Endpoint, kept: Map<string, { key: string; view: Endpoint }>): Endpoint {
    const old = this.viewCopies.get(id);
    const entry = old?.key === key ? old : { key, view: build() };
    kept.set(id, entry);
    return entry.view;
  }

  /** Declared endpoints merged with the records agents reported; records nobody declared follow. */
  private buildEndpointViews(r: StoreReader): Endpoint[] {
    const records = this.endpointRecords(r);
    const kept = new Map<string, { key: string; view: Endpoint }>();
    const declKey = (d: Endpoint) => `d:${d.metadata.uid ?? ''}:${d.metadata.resourceVersion ?? ''}`;
    const attached = (base: Endpoint, rec: Endpoint): Endpoint => ({
      ...base,
      status: { ...rec.status, conditions: [condition('True', 'Attached', `attached on host "${rec.spec.host}"`, rec.metadata.creationTimestamp)] },
    });
    // Candidates per (network, host): a declaration is realised by a record of its name or of its container on its host.
    const byName = new Map(records.map((x) => [x.record.metadata.name, x]));
    const order = new Map(records.map((x, i) => [x, i]));
    const byPlace = new Map<string, typeof records>();
    for (const x of records) {
      const k = `${x.record.spec.network}\u0000${x.record.spec.host}`;
      const list = byPlace.get(k);
      if (list) list.push(x);
      else byPlace.set(k, [x]);
    }
    const used = new Set<string>();
    const out: Endpoint[] = [];
    for (const d of r.listResources('Endpoint')) {
      const named = byName.get(d.metadata.name);
      const near = byPlace.get(`${d.spec.network}\u0000${d.spec.host}`) ?? [];
      // In the records' own order, as a scan of all of them would find it.
      const candidates = named ? [named, ...near].sort((a, b) => (order.get(a) as number) - (order.get(b) as number)) : near;
      const found = candidates.find((x) => !used.has(x.record.metadata.name) && recordRealises(x.record, d));
      if (found) {
        const rec = found.record;
        used.add(rec.metadata.name);
        const key = `${declKey(d)}|r:${rec.metadata.name}:${found.revision}`;
        out.push(this.cachedView(`declared/${d.metadata.name}`, key, () => attached(withRecordLabels(d, rec), rec), kept));
      } else {
        out.push(
          this.cachedView(`declared/${d.metadata.name}`, declKey(d), () => {
            const status: Endpoint['status'] = { conditions: [condition('False', 'NotAttached', `declared; waiting for container ${d.spec.containerId} to attach on host "${d.spec.host}"`, d.metadata.creationTimestamp)] };
            if (d.spec.ip !== undefined) status.ip = d.spec.ip;
            return { ...d, status };
          }, kept),
        );
      }
    }
    for (const { record: rec, revision } of records) {
      if (used.has(rec.metadata.name)) continue;
      out.push(this.cachedView(`record/${rec.metadata.name}`, `r:${revision}`, () => attached(rec, rec), kept));
    }
    this.viewCopies.clear();
    for (const [id, entry] of kept) this.viewCopies.set(id, entry);
    return out.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  }

  /** What every network's view needs from one read: hosts, endpoints per network, hosts with a record per network. */
  private networkInputs(r: StoreReader): NetworkInputs {
    const endpoints = new Map<string, number>();
    for (const e of this.endpointViews(r)) endpoints.set(e.spec.network, (endpoints.get(e.spec.network) ?? 0) + 1);
    return { hosts: r.listResources('Host'), endpoints, carriers: this.carriersOf(r) };
  }

  /** network -> the hosts with an endpoint record on it (which realise it), read without reading the records. */
  private carriersOf(r: StoreReader): Map<string, Set<string>> {
    const carriers = new Map<string, Set<string>>();
    for (const { network, host } of r.listEndpointPlacements()) {
      const set = carriers.get(network) ?? new Set<string>();
      set.add(host);
      carriers.set(network, set);
    }
    return carriers;
  }

  /**
   * Per-host readiness covers the hosts that carry the network (have an
   * endpoint on it): only they realise it (bridge, VXLAN device, forwarding
   * entries), so "ready on host X" means something only there, and a host
   * that merely could attach later, or is down with nothing on the network,
   * does not hold its condition at NotReady.
   */
  private networkView(r: StoreReader, net: Network, inputs: NetworkInputs = this.networkInputs(r)): Network {
    const name = net.metadata.name;
    const vni = r.getVni(name);
    const hostsRes = inputs.hosts;
    const carriers = inputs.carriers.get(name) ?? new Set<string>();
    const { hosts, conditions } = this.realisation(net, vni, hostsRes, carriers, Date.now());
    const mtus = hostsRes.map((h) => networkMtu(net, h.status?.underlayMtu));
    const status: NetworkStatus = {};
    if (vni !== undefined) {
      status.vni = vni;
      status.bridge = bridgeName(vni);
    }
    Object.assign(status, {
      mtu: net.spec.mtu ?? (mtus.length > 0 ? Math.min(...mtus) : DEFAULT_UNDERLAY_MTU - VXLAN_OVERHEAD),
      gateway: intToIpv4(addressSpaceOf(net).gateway),
      endpoints: inputs.endpoints.get(name) ?? 0,
      hosts,
    } satisfies NetworkStatus);
    const observed = this.observedGeneration(net, hosts);
    if (observed !== undefined) status.observedGeneration = observed;
    status.conditions = conditions;
    return { ...net, status };
  }

  /**
   * The generation the data plane has caught up with: the current one once
   * every host that carries the network has applied everything it was sent
   * and reports the network ready (trivially, when no host carries it);
   * until then the last generation seen realised by this controller
   * process, or none (unknown, e.g. right after a controller restart).
   */
  private observedGeneration(net: Network, hosts: Record<string, PerHost>): number | undefined {
    const name = net.metadata.name;
    const generation = net.metadata.generation ?? 1;
    const caughtUp = Object.values(hosts).every((h) => h.ready);
    const seen = this.realised.get(name);
    if (caughtUp) {
      if (seen?.generation !== generation || seen.uid !== net.metadata.uid) this.realised.set(name, { uid: net.metadata.uid, generation });
      return generation;
    }
    // A network deleted and created again under the same name starts over.
    return seen !== undefined && seen.uid === net.metadata.uid ? seen.generation : undefined;
  }

  /**
   * The condition of every network, in one read and without the endpoint
   * views (what the event tracker compares between passes; listNetworks
   * costs networks x endpoints).
   */
  networkConditions(): Map<string, Condition> {
    return this.store.read((r) => {
      const hostsRes = r.listResources('Host');
      const carriers = this.carriersOf(r);
      const now = Date.now();
      const out = new Map<string, Condition>();
      for (const net of r.listResources('Network')) {
        const name = net.metadata.name;
        const { conditions } = this.realisation(net, r.getVni(name), hostsRes, carriers.get(name) ?? new Set(), now);
        if (conditions[0]) out.set(name, conditions[0]);
      }
      return out;
    });
  }

  /** Per-host readiness of a network on the hosts that carry it, and its condition. */
  private realisation(net: Network, vni: number | undefined, hostsRes: Host[], carriers: Set<string>, now: number): { hosts: Record<string, PerHost>; conditions: Condition[] } {
    const name = net.metadata.name;
    const hosts: Record<string, PerHost> = {};
    let latest: number | undefined;
    for (const h of hostsRes) {
      if (!carriers.has(h.metadata.name) || this.stateOf(h, now) === 'Gone') continue;
      const live = this.live.get(h.metadata.name);
      const applied = live?.appliedRevision ?? h.status?.appliedRevision ?? 0;
      if (!live?.connected) {
        hosts[h.metadata.name] = { ready: false, revision: applied, message: 'agent not connected' };
        continue;
      }
      const report = live.networks[name];
      const lagging = live.sentRevision !== undefined && applied < live.sentRevision;
      if (live.statusAt !== undefined) latest = Math.max(latest ?? 0, live.statusAt);
      const entry: PerHost = { ready: (report?.ready ?? false) && !lagging, revision: applied };
      const message = !report ? 'waiting for the agent to report this network' : lagging ? `applying revision ${live.sentRevision}` : report.message;
      if (message !== undefined) entry.message = message;
      hosts[h.metadata.name] = entry;
    }
    const names = Object.keys(hosts);
    const notReady = names.filter((h) => !(hosts[h] as PerHost).ready);
    const at = latest ?? net.metadata.creationTimestamp;
    const readiness =
      names.length === 0
        ? condition('True', 'NoEndpoints', `allocated (VNI ${vni ?? '-'}); no host has an endpoint on it yet, so there is nothing to realise`, at)
        : notReady.length === 0
          ? condition('True', 'Ready', `realised on ${names.length} host${names.length === 1 ? '' : 's'}`, at)
          : condition('False', 'HostsNotReady', `not ready on ${notReady.map((h) => `"${h}" (${(hosts[h] as PerHost).message ?? 'not ready'})`).join(', ')}`, at);
    return { hosts, conditions: [mtuCondition(net, hostsRes, at) ?? readiness] };
  }

  /** The policy with its status computed now (see firewall-policy-status.ts); Gone hosts enforce nothing and are left out. */
  private firewallPolicyView(policy: FirewallPolicy, planner: FirewallPlanner, hostsRes: Host[]): FirewallPolicy {
    const { total, byHost } = planner.appliedCounts(policy.metadata.name);
    const byName = new Map(hostsRes.map((h) => [h.metadata.name, h]));
    const now = Date.now();
    const carriers: PolicyCarrier[] = [];
    for (const [host, endpoints] of byHost) {
      const res = byName.get(host);
      if (res && this.stateOf(res, now) === 'Gone') continue;
      const c: PolicyCarrier = { host, endpoints, live: this.live.get(host) };
      const persisted = res?.status?.appliedRevision;
      if (persisted !== undefined) c.persistedRevision = persisted;
      carriers.push(c);
    }
    return { ...policy, status: firewallPolicyStatus(policy, carriers, total) };
  }

  private hostView(r: StoreReader, host: Host): Host {
    const name = host.metadata.name;
    const live = this.live.get(name);
    const state = this.stateOf(host);
    const persisted = host.status ?? {};
    const status: HostStatus = { ...persisted, state };
    const address = persisted.address ?? host.spec.address;
    if (address !== undefined) status.address = address;
    if (live?.appliedRevision !== undefined) status.appliedRevision = live.appliedRevision;
    if (live) status.lastHeartbeat = new Date(live.lastHeartbeat).toISOString();
    if (live?.spoofDrops !== undefined) status.spoofDrops = { ...live.spoofDrops };
    status.endpoints = r.countEndpointRecords({ host: name });
    status.blocks = r.listBlocks({ host: name }).map((b) => ({ network: b.network, cidr: b.cidr }));
    const since = status.lastHeartbeat ?? host.metadata.creationTimestamp;
    status.conditions = [
      state === 'Ready'
        ? condition('True', 'AgentConnected', 'the agent is connected and sending heartbeats', live?.connectedAt)
        : state === 'Gone'
          ? condition(
              'False',
              'Gone',
              `no agent connection since ${since ?? 'this controller started'}: its endpoints are withdrawn from the other hosts and its empty address blocks are reclaimed`,
              since,
            )
          : live?.connected
            ? condition('False', 'HeartbeatTimeout', `no message from the agent for more than ${this.config.heartbeatTimeoutMs} ms`, live.lastSeen)
            : condition('False', 'AgentDisconnected', 'the agent is not connected', live?.disconnectedAt ?? since),
    ];
    return { ...host, status };
  }
}
