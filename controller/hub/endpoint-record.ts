// An agent's EndpointReport as the Endpoint resource the REST API shows.
import type { EndpointReport } from '../../model/agent-protocol.js';
import type { Endpoint } from '../../model/kinds.js';
import { API_VERSION } from '../../model/meta.js';

export function recordFromReport(host: string, rep: EndpointReport): Endpoint {
  const ep: Endpoint = {
    apiVersion: API_VERSION,
    kind: 'Endpoint',
    metadata: { name: rep.name },
    spec: { network: rep.network, host, containerId: rep.containerId, ifname: rep.ifname, ip: rep.ip },
    status: { ip: rep.ip, mac: rep.mac, hostIfname: rep.hostIfname, netns: rep.netns, phase: 'Attached' },
  };
  if (rep.ip6 !== undefined && ep.status) ep.status.ip6 = rep.ip6;
  if (Object.keys(rep.labels).length > 0) ep.metadata.labels = rep.labels;
  return ep;
}

/** The declared endpoint a record realises: same name, or same container interface on the same network and host. */
export function recordRealises(record: Endpoint, declared: Endpoint): boolean {
  if (record.metadata.name === declared.metadata.name) return true;
  const a = record.spec;
  const b = declared.spec;
  return a.containerId === b.containerId && a.ifname === b.ifname && a.network === b.network && a.host === b.host;
}

/**
 * The labels an attached endpoint carries, for selectors (label queries,
 * firewall policies): those its agent reported (the runtime's) with those
 * of its declaration, if any, over them.
 */
export function endpointLabels(record: Endpoint, declared: Endpoint | undefined): Record<string, string> | undefined {
  const merged = { ...record.metadata.labels, ...declared?.metadata.labels };
  return Object.keys(merged).length > 0 ? merged : undefined;
}

const ifaceKey = (e: Endpoint) => `${e.spec.network}\u0000${e.spec.host}\u0000${e.spec.containerId}\u0000${e.spec.ifname}`;

/** For each record, the declaration it realises (by name first, then by interface), from one pass over both lists. */
export function declarationsOf(records: readonly Endpoint[], declared: readonly Endpoint[]): Map<string, Endpoint> {
  const byName = new Map(declared.map((d) => [d.metadata.name, d]));
  const byIface = new Map<string, Endpoint>();
  for (const d of declared) if (!byIface.has(ifaceKey(d))) byIface.set(ifaceKey(d), d);
  const out = new Map<string, Endpoint>();
  for (const rec of records) {
    const d = byName.get(rec.metadata.name) ?? byIface.get(ifaceKey(rec));
    if (d) out.set(rec.metadata.name, d);
  }
  return out;
}
