// Firewall (VNF) documents: the schema, and the semantic checks borrowed
// from FirewallPolicy rules, reported at the paths the user wrote.
import { checkFirewallSpec } from '../../../model/firewall-vnf-validate.js';
import { kindFromName } from '../../../model/kinds.js';
import { parseIssues } from './support/parse-issues.js';

const base = { host: 'h1', networks: [{ network: 'a' }, { network: 'b' }] };

const issues = (spec: Record<string, unknown>) => parseIssues('Firewall', spec);

describe('Firewall validation', () => {
  test.each([
    ['one network', { ...base, networks: [{ network: 'a' }] }, '/spec/networks', 'at least 2'],
    ['nine networks', { ...base, networks: Array.from({ length: 9 }, (_, i) => ({ network: `n${i}` })) }, '/spec/networks', 'at most 8'],
    ['a network twice', { ...base, networks: [{ network: 'a' }, { network: 'a' }] }, '/spec/networks/1/network', 'listed twice'],
    ['an address that is not IPv4', { ...base, networks: [{ network: 'a', ip: 'fd00::1' }, { network: 'b' }] }, '/spec/networks/0/ip', 'not an IPv4 address'],
    ['a bad default action', { ...base, defaultAction: 'drop' }, '/spec/defaultAction', 'allow, deny, reject'],
    ['host bits in a source', { ...base, rules: [{ action: 'allow', from: [{ cidr: '10.0.0.1/24' }] }] }, '/spec/rules/0/from/0/cidr', 'host bits'],
    ['host bits in a destination', { ...base, rules: [{ action: 'allow', to: [{ cidr: '10.0.0.1/24' }] }] }, '/spec/rules/0/to/0/cidr', 'host bits'],
    ['ports without tcp/udp', { ...base, rules: [{ action: 'allow', ports: [80] }] }, '/spec/rules/0/ports', 'protocol tcp or udp'],
    ['an unknown port set', { ...base, rules: [{ action: 'allow', protocol: 'tcp', ports: ['@web'] }] }, '/spec/rules/0/ports/0', 'not defined'],
    ['a rule name twice', { ...base, rules: [{ name: 'x', action: 'allow' }, { name: 'x', action: 'deny' }] }, '/spec/rules/1/name', 'used twice in the rules (also /spec/rules/0)'],
    ['the reserved rule name', { ...base, rules: [{ name: 'default', action: 'allow' }] }, '/spec/rules/0/name', 'reserved'],
  ])('%s', (_what, spec, path, message) => {
    const found = issues(spec);
    expect(found).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  test('a good firewall passes, and `fw` names the kind', () => {
    expect(issues({ ...base, defaultAction: 'reject', portSets: { web: [80, 443] }, rules: [{ name: 'web', action: 'allow', from: [{ network: 'a' }], to: [{ network: 'b', selector: { app: 'web' } }], protocol: 'tcp', ports: ['@web'] }] })).toEqual([]);
    expect(checkFirewallSpec({ ...base, rules: [{ action: 'log' }] })).toEqual([]);
    expect(kindFromName('fw')).toBe('Firewall');
    expect(kindFromName('firewalls')).toBe('Firewall');
    expect(kindFromName('fwp')).toBe('FirewallPolicy');
  });
});

// A perimeter rule expands to sources x destinations x ports; neither half
// the policy checks see is enough.
const hosts = (n: number, second = 0) => Array.from({ length: n }, (_, i) => ({ cidr: `10.${second}.${(i >> 8) & 255}.${i & 255}/32` }));
const portList = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const sized = (from: number, to: number, ports: number) => ({ action: 'allow', from: hosts(from), to: hosts(to, 1), protocol: 'tcp', ports: portList(ports) });

describe('Firewall rule sizes', () => {
  test.each([
    ['64 sources x 64 destinations x 16 ports: at the rule limit', { ...base, rules: [sized(64, 64, 16)] }],
    ['network peers are subnets: one each', { ...base, rules: [{ action: 'allow', from: [{ network: 'a' }], to: [{ network: 'b' }], protocol: 'tcp', ports: portList(1024) }] }],
    ['15 rules at the rule limit: 983,040 in all', { ...base, rules: Array.from({ length: 15 }, () => sized(64, 64, 16)) }],
  ])('passes: %s', (_what, spec) => {
    expect(issues(spec)).toEqual([]);
  });

  test.each([
    ['64 sources x 64 destinations x 17 ports', { ...base, rules: [sized(64, 64, 17)] }, '/spec/rules/0', /^this rule expands to up to 69632 nftables elements \(64 source ranges x 64 destination ranges x 17 ports or port ranges\), more than 65536 per rule, .*, or split the rule into several$/],
    ['a port set counts its entries', { ...base, portSets: { many: portList(4096) }, rules: [{ ...sized(4, 5, 0), ports: ['@many'] }] }, '/spec/rules/0', /up to 81920 nftables elements \(4 source ranges x 5 destination ranges x 4096 ports or port ranges\)/],
    ['selector peers: one each, said to be a lower count', { ...base, rules: [{ ...sized(64, 0, 17), to: Array.from({ length: 64 }, (_, i) => ({ selector: { app: `a${i}` } })) }] }, '/spec/rules/0', /; endpoint peers count 1 each here but expand to one element per endpoint they match\)/],
    [
      'rules past the firewall limit in all, at the rule that passes it',
      { ...base, rules: Array.from({ length: 16 }, () => sized(64, 64, 16)) },
      '/spec/rules/15',
      /^the firewall's rules expand to up to 1048576 nftables elements in all \(this rule passes the limit\), more than 1000000 per firewall: cover addresses with fewer, wider CIDRs and ports with ranges \("8000-8080"\) instead of listing them one by one$/,
    ],
  ])('refused: %s', (_what, spec, path, message) => {
    const found = issues(spec);
    expect(found.map((i) => i.path)).toEqual([path]);
    expect(found[0]?.message).toMatch(message);
  });
});
