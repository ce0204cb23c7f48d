// A Firewall's status, computed at read time (a stored status is not shown):
// its addresses (from its reservations), whether its host runs the current
// generation (from the agent's last report), the rule counters that report
// carried, and one Ready condition. Pure: StatusView gathers the inputs.
import type { FirewallVnfReport } from '../../model/vnf-protocol.js';
import type { Firewall, FirewallInterfaceStatus, FirewallStatus } from '../../model/firewall-vnf.js';
import type { Condition } from '../../model/meta.js';
import type { LiveHost } from '../hosts/live-hosts.js';
import { firewallMac } from '../../model/vnf-names.js';
import { firewallAddresses } from '../planner/firewall-vnf-planner.js';
import type { StoreReader } from '../store/store.js';

export interface FirewallVnfInputs {
  /** the firewall's address and MAC on each network it has one on */
  interfaces: FirewallInterfaceStatus[];
  /** guarded networks it has no address on (the network was deleted under it) */
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

export function firewallVnfStatus(fw: Firewall, inputs: FirewallVnfInputs): FirewallStatus {
  const generation = fw.metadata.generation ?? 1;
  const host = fw.spec.host;
  const live = inputs.live;
  const revision = live?.appliedRevision ?? inputs.persistedRevision ?? 0;
  const report: FirewallVnfReport | undefined = live?.firewallVnfs?.[fw.metadata.name];
  const at = live?.statusAt ?? fw.metadata.creationTimestamp;
  let ready = false;
  let reason: string;
  let message: string;
  if (inputs.hostGone) {
    [reason, message] = ['HostGone', `host "${host}" is gone; the firewall runs nowhere`];
  } else if (!live?.connected) {
    [reason, message] = ['AgentNotConnected', `the agent of host "${host}" is not connected (a firewall it runs keeps filtering)`];
  } else if (live.sentRevision !== undefined && revision < live.sentRevision) {
    [reason, message] = ['Applying', `host "${host}" is applying revision ${live.sentRevision}`];
  } else if (!report) {
    [reason, message] = ['Pending', `waiting for host "${host}" to report the firewall`];
  } else if (report.generation !== generation) {
    [reason, message] = ['Applying', `host "${host}" runs generation ${report.generation}; generation ${generation} not applied yet`];
  } else if (!report.ready) {
    [reason, message] = ['NotReady', report.message ?? `not ready on host "${host}"`];
  } else if (inputs.unaddressed.length > 0) {
    [reason, message] = ['NoAddress', `no address on network${inputs.unaddressed.length === 1 ? '' : 's'} ${inputs.unaddressed.map((n) => `"${n}"`).join(', ')}: re-apply the firewall`];
  } else {
    ready = true;
    [reason, message] = ['Ready', `generation ${generation} runs on host "${host}" between ${inputs.interfaces.map((i) => `"${i.network}"`).join(', ')}`];
  }
  const perHost: NonNullable<FirewallStatus['hosts']>[string] = { ready, revision };
  if (!ready) perHost.message = message;
  const status: FirewallStatus = { ready, hosts: { [host]: perHost }, interfaces: inputs.interfaces };
  if (report) {
    status.counters = report.counters;
    status.observedGeneration = report.generation;
  }
  status.conditions = [condition(ready ? 'True' : 'False', reason, message, at)];
  return status;
}

/** The inputs of one firewall's status from a store snapshot; `live` and `gone` come from the caller (StatusView). */
export function firewallVnfInputs(
  r: Pick<StoreReader, 'listReservations' | 'getResource'>,
  fw: Firewall,
  live: LiveHost | undefined,
  hostGone: boolean,
): FirewallVnfInputs {
  const addresses = firewallAddresses(fw.metadata.name, r.listReservations());
  const interfaces: FirewallInterfaceStatus[] = [];
  const unaddressed: string[] = [];
  for (const { network } of fw.spec.networks) {
    const ip = addresses.get(network);
    if (ip === undefined) unaddressed.push(network);
    else interfaces.push({ network, ip, mac: firewallMac(fw.metadata.name, network) });
  }
  const inputs: FirewallVnfInputs = { interfaces, unaddressed, live, hostGone };
  const persisted = r.getResource('Host', fw.spec.host)?.status?.appliedRevision;
  if (persisted !== undefined) inputs.persistedRevision = persisted;
  return inputs;
}
