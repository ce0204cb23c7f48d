// A Router's live port-forward connections from its namespace's conntrack
// table: which entries are its forwards', how a row reads, order and cap.
import type { ConntrackEntry } from '../../../../model/conntrack.js';
import { ROUTER_FORWARD_CT_MARK } from '../../../../vnf/router/render-table.js';
import type { PlanRouterSpec } from '../../../../model/router.js';
import { MAX_LISTED_CONNECTIONS } from '../../../../model/vnf-resource.js';
import { readRouterConnections } from '../../../../vnf/router/read-connections.js';
import { renderRouterVnf } from '../../../../vnf/router/router-driver.js';

const SPEC: PlanRouterSpec = {
  subnets: ['10.1.0.0/24'],
  routes: [],
  uplink: { hostIp: '169.254.3.1', ip: '169.254.3.2', prefixLength: 30 },
  portForwards: [
    { protocol: 'tcp', port: 8080, toIp: '10.1.0.7', toPort: 80 },
    { protocol: 'udp', port: 53, toIp: '10.1.0.8', toPort: 53 },
  ],
};
const DNAT = 1 << 5;

function forwarded(client: string, sport: number, dport: number, to: string, toPort: number, protocol = 6, tcpState?: number): ConntrackEntry {
  const e: ConntrackEntry = { protocol, orig: { src: client, dst: '169.254.3.2', sport, dport }, reply: { src: to, dst: client, sport: toPort, dport: sport }, status: DNAT | 8 };
  if (tcpState !== undefined) e.tcpState = tcpState;
  return e;
}

describe('Router connections', () => {
  test("only its forwards' entries, as rows sorted by port then client; TCP with its state", () => {
    const rows = readRouterConnections(
      [
        forwarded('192.0.2.20', 41000, 8080, '10.1.0.7', 80, 6, 7),
        forwarded('192.0.2.9', 40000, 8080, '10.1.0.7', 80, 6, 3),
        forwarded('192.0.2.9', 5353, 53, '10.1.0.8', 53, 17),
        // translated on the way out (snat), not a forward
        { protocol: 6, orig: { src: '10.1.0.7', dst: '192.0.2.9', sport: 5000, dport: 443 }, reply: { src: '192.0.2.9', dst: '169.254.3.2', sport: 443, dport: 5000 }, status: 1 << 4 },
        // a published port, but the reply is not from the forward's endpoint
        forwarded('192.0.2.9', 40001, 8080, '10.1.0.99', 80),
        // the forward's port with the other protocol
        forwarded('192.0.2.9', 40002, 8080, '10.1.0.7', 80, 17),
      ],
      SPEC,
    );
    expect(rows).toEqual({
      total: 3,
      items: [
        { protocol: 'udp', port: 53, client: '192.0.2.9:5353', endpoint: '10.1.0.8:53' },
        { protocol: 'tcp', port: 8080, client: '192.0.2.9:40000', endpoint: '10.1.0.7:80', state: 'established' },
        { protocol: 'tcp', port: 8080, client: '192.0.2.20:41000', endpoint: '10.1.0.7:80', state: 'time-wait' },
      ],
    });
  });

  test(`lists the first ${MAX_LISTED_CONNECTIONS} and counts them all`, () => {
    const many = Array.from({ length: MAX_LISTED_CONNECTIONS + 7 }, (_, i) => forwarded('192.0.2.9', 30000 + i, 8080, '10.1.0.7', 80, 6, 3));
    const rows = readRouterConnections(many, SPEC);
    expect(rows.total).toBe(MAX_LISTED_CONNECTIONS + 7);
    expect(rows.items).toHaveLength(MAX_LISTED_CONNECTIONS);
    expect(rows.items[0]?.client).toBe('192.0.2.9:30000');
  });

  test('the driver asks for the conntrack entries its forward rules mark, only when the router publishes ports', () => {
    const planned = (spec: PlanRouterSpec) => ({ kind: 'Router', name: 'edge', generation: 1, netns: 'wn.h1.router.edge', interfaces: [], spec });
    expect(renderRouterVnf(planned(SPEC)).observeConntrack).toEqual({ mark: ROUTER_FORWARD_CT_MARK, mask: 0xffff_ffff });
    expect(renderRouterVnf(planned({ ...SPEC, portForwards: [] })).observeConntrack).toBeUndefined();
  });
});
