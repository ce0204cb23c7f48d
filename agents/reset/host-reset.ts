// `weft reset`, the agent's side: find everything weft made on this host
// (in the namespace this process runs in, where the agent's bridges live)
// by weft's own marks (model/host-objects.ts, model/vnf-names.ts, the
// agent's state directory), and remove it, in an order that never leaves
// traffic less guarded than before: processes, VNF namespaces, ports,
// VXLAN devices, bridges, then the nft tables, the namespaces `weft run`
// made, the VNFs' files and, when asked, the state directory.
//
// Whose is a namespace under /run/netns? It is machine-wide and several
// hosts may share a machine (the lab), so a namespace is taken only with a
// proof that it is this host's:
// - a VNF's `wn.<host>.<kind>.<name>` (this host's name), when one of this
//   host's links is its port (its alias names that VNF), this host's cached
//   plan names it, or a process of this state directory runs in it;
// - a `weft run` namespace (`wr-*`) when an endpoint record of this state
//   directory names it and it still holds the namespace attached to.
// Namespaces a runtime made (CNI) are never removed: their interfaces go
// with the ports here. A VNF's external interface (a Router's macvlan on a
// host interface) lives only inside the VNF's namespace: it goes with it,
// and the host interface it sat on, not weft's, stays.
import { rmSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HostPlan } from '../../model/agent-protocol.js';
import { weftLinkRole, type WeftLinkRole } from '../../model/host-objects.js';
import { NETNS_RUN_DIR, RUN_NETNS_PREFIX, hostNftTable, parseOwnerAlias } from '../../model/kernel-names.js';
import { parseVnfAlias, parseVnfNetnsName, sameVnf } from '../../model/vnf-names.js';
import type { DatapathFactory, LinkInfo, NetnsHandle } from '../datapath/port.js';
import type { ProcessSupervisor } from '../datapath/process-supervisor.js';
import { netnsGoneReason } from '../endpoints/netns-gone.js';
import type { EndpointRecord } from '../state/endpoint-store.js';

/** The nft verbs reset needs in the host namespace. */
export interface HostNftTables {
  listTables(): Promise<ReadonlyArray<{ family: string; name: string }>>;
  deleteTable(name: string, family: NonNullable<ReturnType<typeof hostNftTable>>['family']): Promise<void>;
}

export interface HostResetInputs {
  /** the namespace the agent's bridges live in (this process's) */
  host: NetnsHandle;
  namespaces: Pick<DatapathFactory, 'listNamedNetns' | 'deleteNamedNetns' | 'netnsId'>;
  nft: HostNftTables;
  /** the supervisor over the state directory's pidfiles; none when it has none */
  processes?: Pick<ProcessSupervisor, 'list' | 'stop'>;
  /** the agent's host name (VNF namespaces carry it) */
  hostName: string;
  stateDir: string;
  /** the state directory's endpoint records and cached plan, when it has them */
  records: readonly EndpointRecord[];
  plan: HostPlan | undefined;
}

export type ResetKind = 'process' | 'netns' | 'link' | 'nft table' | 'files';

export interface ResetItem {
  kind: ResetKind;
  name: string;
  /** what it is, for the user */
  what: string;
  remove(): Promise<void>;
}

/** A workload attached here: an endpoint port, so a live namespace at its other end. */
export interface AttachedWorkload {
  endpoint: string;
  hostIfname: string;
  /** the workload's namespace, when the state directory's records say */
  netns?: string;
}

export interface ResetPlan {
  items: ResetItem[];
  attached: AttachedWorkload[];
}

const LINK_ORDER: readonly WeftLinkRole[] = ['endpoint port', 'VNF port', 'VNF uplink', 'VXLAN device', 'bridge'];

export class HostReset {
  constructor(private readonly in_: HostResetInputs) {}

  /** What reset would remove, in removal order, and the workloads still attached. Changes nothing. */
  async plan(opts: { state: boolean }): Promise<ResetPlan> {
    const { host } = this.in_;
    const links = await host.listLinks();
    const owned = links.flatMap((l) => {
      const role = weftLinkRole(l);
      return role === undefined ? [] : [{ link: l, role }];
    });
    const processes = (this.in_.processes?.list() ?? []).filter((p) => p.pid !== undefined);
    const vnfNamespaces = await this.vnfNamespaces(owned.filter((o) => o.role === 'VNF port').map((o) => o.link), processes.map((p) => p.id));
    const items: ResetItem[] = [];
    for (const p of processes) {
      items.push({ kind: 'process', name: p.id, what: `VNF process, pid ${p.pid}`, remove: () => this.in_.processes?.stop(p.id) ?? Promise.resolve() });
    }
    for (const name of vnfNamespaces) items.push(this.netnsItem(name, 'VNF namespace'));
    for (const role of LINK_ORDER) {
      for (const { link } of owned.filter((o) => o.role === role)) {
        items.push({ kind: 'link', name: link.name, what: `${role}, ${link.alias ?? ''}`, remove: () => host.removeLink(link.index) });
      }
    }
    for (const t of await this.in_.nft.listTables()) {
      const table = hostNftTable(t);
      if (table) items.push({ kind: 'nft table', name: `${table.family} ${table.name}`, what: 'nft table', remove: () => this.in_.nft.deleteTable(table.name, table.family) });
    }
    for (const name of await this.runNamespaces()) items.push(this.netnsItem(name, '`weft run` namespace'));
    for (const name of vnfNamespaces) {
      const dir = join(this.in_.stateDir, 'vnf', name);
      if (existsSync(dir)) items.push(filesItem(dir, 'VNF files'));
    }
    if (opts.state && existsSync(this.in_.stateDir)) {
      for (const entry of readdirSync(this.in_.stateDir).sort()) {
        const path = join(this.in_.stateDir, entry);
        if (!items.some((i) => i.kind === 'files' && i.name === path)) items.push(filesItem(path, 'agent state'));
      }
    }
    const records = new Map(this.in_.records.map((r) => [r.hostIfname, r]));
    const attached = owned
      .filter((o) => o.role === 'endpoint port')
      .map(({ link }) => {
        const r = records.get(link.name);
        const owner = parseOwnerAlias(link.alias);
        const w: AttachedWorkload = { endpoint: r?.name ?? (owner?.type === 'ep' ? owner.name : link.name), hostIfname: link.name };
        if (r) w.netns = r.netns;
        return w;
      });
    return { items, attached };
  }

  private netnsItem(name: string, what: string): ResetItem {
    return { kind: 'netns', name, what, remove: () => this.in_.namespaces.deleteNamedNetns(name) };
  }

  /** This host's VNF namespaces, each with a proof that it is this host's (see the top of the file). */
  private async vnfNamespaces(ports: readonly LinkInfo[], processIds: readonly string[]): Promise<string[]> {
    const planned = new Set((this.in_.plan?.host === this.in_.hostName ? this.in_.plan.vnfs : []).map((v) => v.netns));
    const out: string[] = [];
    for (const name of await this.in_.namespaces.listNamedNetns()) {
      const vnf = parseVnfNetnsName(this.in_.hostName, name);
      if (vnf === undefined) continue;
      const hasPort = ports.some((l) => {
        const owner = parseVnfAlias(l.alias);
        return owner !== undefined && sameVnf(owner, vnf);
      });
      if (hasPort || planned.has(name) || processIds.some((id) => id.startsWith(`${name}/`))) out.push(name);
    }
    return out;
  }

  /** `weft run` namespaces this state directory's records name, still holding the namespace attached to. */
  private async runNamespaces(): Promise<string[]> {
    const prefix = `${NETNS_RUN_DIR}/${RUN_NETNS_PREFIX}`;
    const out = new Set<string>();
    for (const r of this.in_.records) {
      if (!r.netns.startsWith(prefix) || r.netns.slice(NETNS_RUN_DIR.length + 1).includes('/')) continue;
      if (netnsGoneReason(r, await this.in_.namespaces.netnsId(r.netns)) !== undefined) continue;
      out.add(r.netns.slice(NETNS_RUN_DIR.length + 1));
    }
    return [...out].sort();
  }
}

function filesItem(path: string, what: string): ResetItem {
  return { kind: 'files', name: path, what, remove: async () => rmSync(path, { recursive: true, force: true }) };
}
