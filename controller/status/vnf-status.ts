// A VNF's status, every kind alike, computed at read time (a stored status
// is not shown): its addresses (from its reservations), whether its host
// runs the current generation (from the agent's last report), the counters
// that report carried, and one Ready condition. Pure: StatusView gathers
// the inputs.
import type { Condition } from '../../model/meta.js';
import { vnfMac } from '../../model/vnf-names.js';
import { vnfKey, type VnfCounter, type VnfInterfaceStatus, type VnfReport } from '../../model/vnf-protocol.js';
import { vnfAttachments, type VnfResource } from '../../model/vnf-resource.js';
import type { LiveHost } from '../hosts/live-hosts.js';
import { vnfAddresses } from '../planner/vnf-interfaces.js';
import type { StoreReader } from '../store/store.js';

/** What every VNF kind's status holds (each kind's schema declares these fields). */
export interface VnfStatus {
  ready: boolean;
  hosts: Record<string, { ready: boolean; revision: number; message?: string }>;
  interfaces: VnfInterfaceStatus[];
  counters?: VnfCounter[];
  connections?: VnfReport['connections'];
  observedGeneration?: number;
  conditions: Condition[];
}

export interface VnfInputs {
  /** the VNF's address and MAC on each network it has one on */
  interfaces: VnfInterfaceStatus[];
  /** its networks it has no address on (the network was deleted under it) */
  unaddressed: string[];
  /** spec.host's live state, if its agent ever connected to this controller */
  live: LiveHost | undefined;
  /** the applied revision stored in the Host's status */
  persistedRevision?: number;
  /** spec.host is Gone */
  hostGone: boolean;
}

function condition(status: Condition['status'], reason: string, message: string, at: number | string | undefined): Condition {
  const time = typeof at === 'string' ? at : new Date(at ?? Date.now()).toISOString();
  return { type: 'Ready', status, reason, message, lastTransitionTime: time };
}

export function vnfStatus(vnf: VnfResource, inputs: VnfInputs): VnfStatus {
  const generation = vnf.metadata.generation ?? 1;
  const host = vnf.spec.host;
  const noun = vnf.kind.toLowerCase();
  const live = inputs.live;
  const revision = live?.appliedRevision ?? inputs.persistedRevision ?? 0;
  const report = live?.vnfs?.get(vnfKey({ kind: vnf.kind, name: vnf.metadata.name }));
  const at = live?.statusAt ?? vnf.metadata.creationTimestamp;
  let ready = false;
  let reason: string;
  let message: string;
  if (inputs.hostGone) {
    [reason, message] = ['HostGone', `host "${host}" is gone; the ${noun} runs nowhere`];
  } else if (!live?.connected) {
    [reason, message] = ['AgentNotConnected', `the agent of host "${host}" is not connected (a ${noun} it runs keeps working)`];
  } else if (live.sentRevision !== undefined && revision < live.sentRevision) {
    [reason, message] = ['Applying', `host "${host}" is applying revision ${live.sentRevision}`];
  } else if (!report) {
    [reason, message] = ['Pending', `waiting for host "${host}" to report the ${noun}`];
  } else if (report.generation !== generation) {
    [reason, message] = ['Applying', `host "${host}" runs generation ${report.generation}; generation ${generation} not applied yet`];
  } else if (!report.ready) {
    [reason, message] = ['NotReady', report.message ?? `not ready on host "${host}"`];
  } else if (inputs.unaddressed.length > 0) {
    [reason, message] = ['NoAddress', `no address on network${inputs.unaddressed.length === 1 ? '' : 's'} ${inputs.unaddressed.map((n) => `"${n}"`).join(', ')}: re-apply the ${noun}`];
  } else {
    ready = true;
    [reason, message] = ['Ready', `generation ${generation} runs on host "${host}" between ${inputs.interfaces.map((i) => `"${i.network}"`).join(', ')}`];
  }
  const perHost: VnfStatus['hosts'][string] = { ready, revision };
  if (!ready) perHost.message = message;
  const status: VnfStatus = { ready, hosts: { [host]: perHost }, interfaces: inputs.interfaces, conditions: [] };
  if (report) {
    if (report.counters !== undefined) status.counters = report.counters;
    if (report.connections !== undefined) status.connections = report.connections;
    status.observedGeneration = report.generation;
  }
  status.conditions = [condition(ready ? 'True' : 'False', reason, message, at)];
  return status;
}

/** The inputs of one VNF's status from a store snapshot; `live` and `gone` come from the caller (StatusView). */
export function vnfInputs(r: Pick<StoreReader, 'listReservations' | 'getResource'>, vnf: VnfResource, live: LiveHost | undefined, hostGone: boolean): VnfInputs {
  const key = { kind: vnf.kind, name: vnf.metadata.name };
  const addresses = vnfAddresses(key, r.listReservations());
  const interfaces: VnfInterfaceStatus[] = [];
  const unaddressed: string[] = [];
  for (const { network } of vnfAttachments(vnf)) {
    const ip = addresses.get(network);
    if (ip === undefined) unaddressed.push(network);
    else interfaces.push({ network, ip, mac: vnfMac(key, network) });
  }
  const inputs: VnfInputs = { interfaces, unaddressed, live, hostGone };
  const persisted = r.getResource('Host', vnf.spec.host)?.status?.appliedRevision;
  if (persisted !== undefined) inputs.persistedRevision = persisted;
  return inputs;
}
