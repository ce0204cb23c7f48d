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
  if (Object.keys(rep.labels).length > 0) ep.metadata.labels = rep.labels;
  return ep;
}
