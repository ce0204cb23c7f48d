// Rules as boxes: the product of their fields' merged intervals.
import type { PlanFirewallRule } from '../../../model/agent-protocol.js';
import type { PlanPerimeterRule } from '../../../model/firewall-vnf.js';
import { ANY_ADDRESS, ANY_PORT, cidrInterval, peerIntervals, ruleBoxes } from '../../../model/rule-intervals.js';

const none = new Map<string, string[]>();

describe('perimeter boxes', () => {
  test('a rule is the product of its sources, destinations and ports; omitted peers are any address', () => {
    const rule: PlanPerimeterRule = { name: 'r', action: 'allow', protocol: 'udp', ports: [[53, 53]], from: [{ cidr: '10.0.0.0/24' }, { cidr: '10.0.1.0/24' }] };
    // the two adjacent /24s merge into one source interval
    expect(ruleBoxes([rule.from, rule.to], rule, none)).toEqual([[[cidrInterval('10.0.0.0/23')[0], cidrInterval('10.0.0.0/23')[1]], ANY_ADDRESS, [17, 17], [53, 53]]]);
  });

  test('except cuts holes; a set peer contributes its addresses; ports count only for tcp and udp', () => {
    const [lo] = cidrInterval('10.0.0.0/24');
    expect(peerIntervals([{ cidr: '10.0.0.0/24', except: ['10.0.0.128/25'] }], none)).toEqual([[lo, lo + 127]]);
    expect(peerIntervals([{ set: 's' }], new Map([['s', ['10.0.0.9']]]))).toEqual([[lo + 9, lo + 9]]);
    const icmp: PlanPerimeterRule = { name: 'p', action: 'allow', protocol: 'icmp', ports: [[80, 80]] };
    expect(ruleBoxes([icmp.from, icmp.to], icmp, none)[0]?.[3]).toEqual(ANY_PORT);
  });
});

describe('policy boxes', () => {
  test('a rule with one peer list is [peer, protocol, port] for every peer interval and port range, peers outermost', () => {
    const rule: PlanFirewallRule = { name: 'r', action: 'allow', protocol: 'tcp', ports: [[443, 443], [80, 80]], peers: [{ cidr: '10.0.2.0/24' }, { set: 's' }] };
    const [lo, hi] = cidrInterval('10.0.2.0/24');
    const one = cidrInterval('10.0.0.9/32');
    expect(ruleBoxes([rule.peers], rule, new Map([['s', ['10.0.0.9']]]))).toEqual([
      [one, [6, 6], [80, 80]],
      [one, [6, 6], [443, 443]],
      [[lo, hi], [6, 6], [80, 80]],
      [[lo, hi], [6, 6], [443, 443]],
    ]);
  });
});
