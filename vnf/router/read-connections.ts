// The connections through a Router's port forwards now, from the conntrack
// table of its namespace: entries the router destination-translated whose
// original destination port is a published port and whose reply comes from
// that forward's endpoint. Pure. Sorted by port, then client; the first
// MAX_LISTED_CONNECTIONS listed, the total counted.
import { CT_STATUS_DST_NAT, endpointText, tcpStateName, type ConntrackEntry } from '../../model/conntrack.js';
import { PROTOCOL_NUMBERS } from '../../model/rule-intervals.js';
import type { PlanRouterSpec, RouterConnection } from '../../model/router.js';
import { MAX_LISTED_CONNECTIONS } from '../../model/vnf-resource.js';
import type { VnfConnections } from '../vnf-driver.js';

export function readRouterConnections(tracked: readonly ConntrackEntry[], spec: PlanRouterSpec): VnfConnections {
  const rows: RouterConnection[] = [];
  for (const e of tracked) {
    if ((e.status & CT_STATUS_DST_NAT) === 0) continue;
    const forward = spec.portForwards.find(
      (f) => PROTOCOL_NUMBERS[f.protocol] === e.protocol && e.orig.dport === f.port && e.reply.src === f.toIp && e.reply.sport === f.toPort,
    );
    if (!forward) continue;
    const row: RouterConnection = { protocol: forward.protocol, port: forward.port, client: endpointText(e.orig.src, e.orig.sport), endpoint: endpointText(e.reply.src, e.reply.sport) };
    const state = forward.protocol === 'tcp' ? tcpStateName(e.tcpState) : undefined;
    if (state !== undefined) row.state = state;
    rows.push(row);
  }
  rows.sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol) || a.client.localeCompare(b.client, 'en', { numeric: true }));
  return { total: rows.length, items: rows.slice(0, MAX_LISTED_CONNECTIONS) };
}
