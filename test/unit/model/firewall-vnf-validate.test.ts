// Firewall (VNF) documents: the schema, and the semantic checks borrowed
// from FirewallPolicy rules, reported at the paths the user wrote.
import { WeftError } from '../../../model/errors.js';
import { checkFirewallSpec } from '../../../model/firewall-vnf-validate.js';
import { kindFromName } from '../../../model/kinds.js';
import { parseResource } from '../../../model/validate.js';

const doc = (spec: Record<string, unknown>) => ({ apiVersion: 'weft.dev/v1', kind: 'Firewall', metadata: { name: 'edge' }, spec });
const base = { host: 'h1', networks: [{ network: 'a' }, { network: 'b' }] };

function issues(spec: Record<string, unknown>): Array<{ path: string; message: string }> {
  try {
    parseResource(doc(spec));
    return [];
  } catch (e: unknown) {
    if (!(e instanceof WeftError)) throw e;
    return (e.details ?? []).map((d) => ({ path: d.path, message: d.message }));
  }
}

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
