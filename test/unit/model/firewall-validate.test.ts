// Table tests of the FirewallPolicy semantic checks: every check, its path
// and its message; and that valid policies pass untouched through
// parseResource, the path every write takes.
import { MAX_ELEMENTS_PER_POLICY, MAX_ELEMENTS_PER_RULE, MAX_RULES_PER_POLICY, checkFirewallPolicySpec } from '../../../model/firewall-validate.js';
import { WeftError, type FieldIssue } from '../../../model/errors.js';
import { parseResource } from '../../../model/validate.js';

const policy = (spec: unknown) => ({ apiVersion: 'weft.dev/v1', kind: 'FirewallPolicy', metadata: { name: 'p' }, spec });
/** An ingress policy with one rule. */
const ingress = (rule: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ ...extra, ingress: { rules: [{ action: 'allow', ...rule }] } });
const egress = (rule: Record<string, unknown>) => ({ egress: { rules: [{ action: 'allow', ...rule }] } });
const R0 = '/spec/ingress/rules/0';

function issuesOf(doc: unknown): FieldIssue[] {
  try {
    parseResource(doc);
    return [];
  } catch (e) {
    if (!(e instanceof WeftError)) throw e;
    return e.details;
  }
}

describe('valid policies pass', () => {
  test.each([
    ['an empty spec: allow everything', {}],
    ['a default only', { ingress: { defaultAction: 'deny' } }],
    ['endpoints by selector and network', ingress({ from: [{ selector: { tier: 'app' }, network: 'app' }], protocol: 'tcp', ports: [5432] })],
    ['an empty selector (every endpoint)', ingress({ from: [{ selector: {} }] })],
    ['every address minus some', ingress({ from: [{ cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '192.168.1.7/32'] }] })],
    ['a /32 peer', egress({ to: [{ cidr: '169.254.169.254/32' }] })],
    ['ranges and a port set', ingress({ protocol: 'udp', ports: [53, '5000-5010', '@dns', '1-65535'] }, { portSets: { dns: [53, '853-853'] } })],
    ['a network that does not exist: not an error', { appliesTo: { network: 'nowhere' }, ...ingress({ from: [{ network: 'elsewhere' }] }) }],
    ['log action with log: true (redundant, accepted)', ingress({ action: 'log', log: true })],
    ['one name in each direction', { ingress: { rules: [{ name: 'a', action: 'allow' }] }, egress: { rules: [{ name: 'a', action: 'deny' }] } }],
    ['a numeric name at its own position', { ingress: { rules: [{ action: 'allow' }, { name: '1', action: 'deny' }] } }],
    ['a numeric name no unnamed rule has', { ingress: { rules: [{ name: '7', action: 'allow' }] } }],
    ['rules up to the limit in all', { ingress: { rules: Array.from({ length: MAX_RULES_PER_POLICY / 2 }, () => ({ action: 'allow' })) }, egress: { rules: Array.from({ length: MAX_RULES_PER_POLICY / 2 }, () => ({ action: 'allow' })) } }],
  ])('%s', (_name, spec) => {
    expect(issuesOf(policy(spec))).toEqual([]);
  });
});

describe('semantic problems: one issue each, at its field, saying how to fix it', () => {
  test.each([
    // CIDRs
    ['cidr with host bits', ingress({ from: [{ cidr: '10.0.0.5/24' }] }), `${R0}/from/0/cidr`, /^"10\.0\.0\.5\/24" is not a network address: host bits are set; write 10\.0\.0\.0\/24 \(a peer cidr is a CIDR such as 10\.0\.0\.0\/24\)$/],
    ['cidr that is an address', egress({ to: [{ cidr: '10.0.0.1' }] }), '/spec/egress/rules/0/to/0/cidr', /^"10\.0\.0\.1" is not a valid IPv4 CIDR: write an address and a prefix length/],
    ['cidr with prefix /33', ingress({ from: [{ cidr: '10.0.0.0/33' }] }), `${R0}/from/0/cidr`, /is not a valid IPv4 CIDR/],
    ['IPv6 cidr', ingress({ from: [{ cidr: 'fd00::/64' }] }), `${R0}/from/0/cidr`, /^"fd00::\/64" is IPv6; a peer cidr takes an IPv4 CIDR such as 10\.0\.0\.0\/24$/],
    ['except with host bits', ingress({ from: [{ cidr: '10.0.0.0/8', except: ['10.1.2.3/16'] }] }), `${R0}/from/0/except/0`, /host bits are set; write 10\.1\.0\.0\/16 \(a except entry/],
    ['except outside cidr', ingress({ from: [{ cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] }] }), `${R0}/from/0/except/0`, /^10\.1\.0\.0\/24 is not inside the peer's cidr 10\.0\.0\.0\/16: except only leaves out parts of cidr; remove it or widen cidr$/],
    ['except wider than cidr', ingress({ from: [{ cidr: '10.0.0.0/16', except: ['10.0.0.0/8'] }] }), `${R0}/from/0/except/0`, /is not inside the peer's cidr/],
    ['except equal to cidr', ingress({ from: [{ cidr: '10.0.0.0/16', except: ['10.0.0.0/16'] }] }), `${R0}/from/0/except/0`, /is the whole of the peer's cidr, so the peer matches nothing/],
    ['except without cidr', ingress({ from: [{ network: 'web', except: ['10.0.0.0/8'] }] }), `${R0}/from/0/except`, /^except needs cidr: .*add cidr \(0\.0\.0\.0\/0 for every address\) or remove except$/],
    // peers
    ['empty peer in from', ingress({ from: [{}] }), `${R0}/from/0`, /^an empty peer matches nothing: give selector and\/or network \(endpoints\) or cidr \(addresses\); to match any source, leave "from" out of the rule$/],
    ['empty peer in to', egress({ to: [{}] }), '/spec/egress/rules/0/to/0', /to match any destination, leave "to" out/],
    ['cidr with selector', ingress({ from: [{ cidr: '10.0.0.0/8', selector: { a: 'b' } }] }), `${R0}/from/0/cidr`, /^a peer is either endpoints \(selector and\/or network\) or addresses \(cidr\), not both: move cidr into a peer of its own, or drop selector$/],
    ['cidr with network', ingress({ from: [{ cidr: '10.0.0.0/8', network: 'web' }] }), `${R0}/from/0/cidr`, /or drop network$/],
    ['an empty from list', ingress({ from: [] }), `${R0}/from`, /^an empty "from" list matches no source: leave "from" out to match any, or list peers$/],
    // ports
    ['ports without protocol', ingress({ ports: [80] }), `${R0}/ports`, /^ports need protocol tcp or udp \(this rule's protocol is any, the default\): add `protocol: tcp` \(or udp\) to the rule, or remove ports$/],
    ['ports with protocol any', ingress({ protocol: 'any', ports: [80] }), `${R0}/ports`, /protocol is any\): add `protocol: tcp`/],
    ['ports with icmp', ingress({ protocol: 'icmp', ports: [80] }), `${R0}/ports`, /protocol is icmp\)/],
    ['an empty ports list', ingress({ protocol: 'tcp', ports: [] }), `${R0}/ports`, /^an empty ports list matches no port/],
    ['a range that ends first', ingress({ protocol: 'tcp', ports: ['90-80'] }), `${R0}/ports/0`, /^port "90-80" is out of range: the range starts after it ends \(90 > 80\): write 80-90$/],
    ['a range from 0', ingress({ protocol: 'tcp', ports: ['0-10'] }), `${R0}/ports/0`, /^port "0-10" is out of range: ports are 1 to 65535$/],
    ['a range past 65535', ingress({ protocol: 'tcp', ports: ['65000-65536'] }), `${R0}/ports/0`, /ports are 1 to 65535/],
    ['a single port as a string past 65535', ingress({ protocol: 'tcp', ports: ['99999'] }), `${R0}/ports/0`, /^port "99999" is out of range/],
    ['an unknown port set, close to a known one', ingress({ protocol: 'tcp', ports: ['@wbe'] }, { portSets: { web: [80], db: [5432] } }), `${R0}/ports/0`, /^port set "@wbe" is not defined in spec\.portSets \(did you mean "@web"\?\)$/],
    ['an unknown port set, no sets at all', ingress({ protocol: 'tcp', ports: ['@web'] }), `${R0}/ports/0`, /^port set "@web" is not defined in spec\.portSets: define it there, e\.g\. portSets: \{ web: \[80, 443\] \}$/],
    ['an unknown port set, nothing close', ingress({ protocol: 'tcp', ports: ['@mail'] }, { portSets: { web: [80] } }), `${R0}/ports/0`, /is not defined in spec\.portSets: define it there or use one that is$/],
    ['a port set that refers to another', { portSets: { web: [80], all: ['@web'] } }, '/spec/portSets/all/0', /^port set "all" refers to port set "@web"; port sets hold ports and ranges only: list the ports of "@web" here instead$/],
    ['a bad range inside a port set', { portSets: { web: ['443-80'] } }, '/spec/portSets/web/0', /the range starts after it ends/],
    // names and sizes
    ['a name used twice', { ingress: { rules: [{ name: 'ssh', action: 'allow' }, { name: 'web', action: 'allow' }, { name: 'ssh', action: 'deny' }] } }, '/spec/ingress/rules/2/name', /^rule name "ssh" is used twice in ingress \(also \/spec\/ingress\/rules\/0\): rule names must be unique within a direction; rename one$/],
    ['the reserved name default', egress({ name: 'default' }), '/spec/egress/rules/0/name', /^rule name "default" is reserved for the default action's counters/],
    ['a number naming another unnamed rule', { ingress: { rules: [{ action: 'allow' }, { name: '0', action: 'deny' }] } }, '/spec/ingress/rules/1/name', /^rule name "0" is the name of unnamed rule 0 \(unnamed rules are named by their position\)/],
    [
      'more rules in all than one policy may hold',
      { ingress: { rules: Array.from({ length: 15_000 }, () => ({ action: 'allow' })) }, egress: { rules: Array.from({ length: 5_001 }, () => ({ action: 'deny' })) } },
      '/spec/egress/rules',
      /^the policy has 20001 rules \(ingress 15000 \+ egress 5001\), more than 20000 in all: split it into several policies$/,
    ],
  ])('%s', (_name, spec, path, message) => {
    const issues = issuesOf(policy(spec));
    expect(issues.map((i) => i.path)).toEqual([path]);
    expect(issues[0]?.message).toMatch(message);
  });
});

describe('what the issues carry besides the message', () => {
  test('a host-bits cidr offers the network address as the allowed value', () => {
    expect(checkFirewallPolicySpec(ingress({ from: [{ cidr: '192.168.7.9/16' }] }))).toEqual([
      expect.objectContaining({ path: `${R0}/from/0/cidr`, value: '192.168.7.9/16', allowed: '192.168.0.0/16' }),
    ]);
  });

  test('an unknown port set lists the sets that exist', () => {
    const [issue] = checkFirewallPolicySpec(ingress({ protocol: 'tcp', ports: ['@x'] }, { portSets: { web: [80], db: [5432] } }));
    expect(issue).toMatchObject({ value: '@x', allowed: '@web, @db' });
  });

  test('the base pointer is a parameter (a policy inside a List)', () => {
    expect(checkFirewallPolicySpec(ingress({ ports: [80] }), '/items/3/spec').map((i) => i.path)).toEqual(['/items/3/spec/ingress/rules/0/ports']);
  });

  test('every problem of a policy is reported at once, in document order per check', () => {
    const spec = {
      portSets: { all: ['@web'] },
      ingress: { rules: [{ action: 'allow', from: [{ cidr: '10.0.0.1/8' }], ports: [80] }] },
      egress: { rules: [{ action: 'deny', to: [{}] }] },
    };
    expect(checkFirewallPolicySpec(spec).map((i) => i.path)).toEqual(['/spec/portSets/all/0', `${R0}/from/0/cidr`, `${R0}/ports`, '/spec/egress/rules/0/to/0']);
  });

  test('malformed values (the CLI runs the checks on documents that failed their shape check) are skipped, not thrown on', () => {
    const junk = { portSets: 'no', ingress: { rules: [null, 'x', { from: 'x', ports: 'x' }, { from: [null, { cidr: 7, except: 'x' }], protocol: 'tcp', ports: [null, {}, 'http'] }] }, egress: [] };
    expect(() => checkFirewallPolicySpec(junk)).not.toThrow();
    expect(checkFirewallPolicySpec(junk)).toEqual([]);
  });
});

describe('schema messages for the firewall fields', () => {
  test.each([
    ['an action that does not exist', ingress({ action: 'permit' }), `${R0}/action`, /^must be one of allow, deny, reject, log, got string "permit"$/],
    ['a misspelled protocol', ingress({ protocol: 'tpc' }), `${R0}/protocol`, /^must be one of tcp, udp, icmp, icmpv6, any, got string "tpc" \(did you mean "tcp"\?\)$/],
    ['log as a default action', { ingress: { defaultAction: 'log' } }, '/spec/ingress/defaultAction', /^must be one of allow, deny, reject, got string "log"$/],
    ['a port that is a word', ingress({ protocol: 'tcp', ports: ['http'] }), `${R0}/ports/0`, /^"http" has an invalid format$/],
    ['port 0', ingress({ protocol: 'tcp', ports: [0] }), `${R0}/ports/0`, /^must be >= 1, got 0$/],
    ['"to" in an ingress rule', ingress({ to: [] }), `${R0}/to`, /^unknown field "to": ingress rules take "from"; "to" belongs in egress rules$/],
    ['"from" in an egress rule', egress({ from: [] }), '/spec/egress/rules/0/from', /^unknown field "from": egress rules take "to"; "from" belongs in ingress rules$/],
    ['an empty port set', { portSets: { web: [] } }, '/spec/portSets/web', /^must have at least 1 item, got 0$/],
    ['a port set name with capitals', { portSets: { Web: [80] } }, '/spec/portSets/Web', /^port set name "Web" has an invalid format$/],
    ['a priority below 0', { priority: -1 }, '/spec/priority', /^must be >= 0, got -1$/],
  ])('%s', (_name, spec, path, message) => {
    const issues = issuesOf(policy(spec));
    expect(issues.map((i) => i.path)).toEqual([path]);
    expect(issues[0]?.message).toMatch(message);
  });

  test('a union of constants names what is allowed', () => {
    const [issue] = issuesOf(policy(ingress({ action: 'permit' })));
    expect(issue?.allowed).toBe('allow, deny, reject, log');
  });
});

// How far a rule expands: address pieces (a cidr 1 + its except entries, an
// endpoint peer 1) x port entries (a range 1, "@set" its entries).
const hosts = (n: number) => Array.from({ length: n }, (_, i) => ({ cidr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32` }));
const portList = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const sized = (peers: number, ports: number) => ({ action: 'allow', from: hosts(peers), protocol: 'tcp', ports: portList(ports) });
const FIX = /: cover addresses with fewer, wider CIDRs and ports with ranges \("8000-8080"\) instead of listing them one by one, or split the rule into several$/;

describe('rule sizes: what a rule expands to on every host is bounded', () => {
  test('the limits', () => {
    expect([MAX_ELEMENTS_PER_RULE, MAX_ELEMENTS_PER_POLICY]).toEqual([65_536, 1_000_000]);
  });

  test.each([
    ['256 /32 peers x 256 ports: at the rule limit', ingress(sized(256, 256))],
    ['a cidr with 255 except entries counts 256, x 256 ports', ingress({ from: [{ cidr: '10.0.0.0/16', except: hosts(255).map((h) => h.cidr) }], protocol: 'tcp', ports: portList(256) })],
    ['a port set counts its entries: 16 peers x 4096', ingress({ from: hosts(16), protocol: 'tcp', ports: ['@many'] }, { portSets: { many: portList(4096) } })],
    ['ranges count one each, whatever they cover', ingress({ from: hosts(1024), protocol: 'tcp', ports: Array.from({ length: 64 }, (_, i) => `${i * 1000 + 1}-${i * 1000 + 999}`) })],
    ['no ports: every port, one piece', ingress({ from: hosts(1024), protocol: 'icmp' })],
    ['rules at the policy limit in all (16 x 62,500)', { ingress: { rules: Array.from({ length: 15 }, () => sized(250, 250)) }, egress: { rules: [{ action: 'deny', to: hosts(250), protocol: 'tcp', ports: portList(250) }] } }],
  ])('passes: %s', (_name, spec) => {
    expect(issuesOf(policy(spec))).toEqual([]);
  });

  test.each([
    ['257 /32 peers x 256 ports', ingress(sized(257, 256)), R0, /^this rule expands to up to 65792 nftables elements \(257 address ranges x 256 ports or port ranges\), more than 65536 per rule, and every host enforcing it would compile and hold them all: /],
    ['a cidr with 1024 except entries (1025) x 64 ports', ingress({ from: [{ cidr: '10.0.0.0/16', except: hosts(1024).map((h) => h.cidr) }], protocol: 'tcp', ports: portList(64) }), R0, /up to 65600 nftables elements \(1025 address ranges x 64 ports or port ranges\)/],
    ['a port set of 4096 referred to twice, x 9 peers', ingress({ from: hosts(9), protocol: 'udp', ports: ['@many', '@many'] }, { portSets: { many: portList(4096) } }), R0, /up to 73728 nftables elements \(9 address ranges x 8192 ports or port ranges\)/],
    ['selector peers: one each, said to be a lower count', ingress({ from: Array.from({ length: 300 }, (_, i) => ({ selector: { app: `a${i}` } })), protocol: 'tcp', ports: portList(256) }), R0, /\(300 address ranges x 256 ports or port ranges; endpoint peers count 1 each here but expand to one element per endpoint they match\)/],
    ['ports on a protocol without ports count once: only they are reported', ingress({ from: hosts(1024), protocol: 'icmp', ports: portList(1024) }), `${R0}/ports`, /^ports need protocol tcp or udp/],
    ['an egress rule, at its path', egress({ to: hosts(512), protocol: 'tcp', ports: portList(512) }), '/spec/egress/rules/0', /up to 262144 nftables elements/],
    [
      'rules past the policy limit in all, at the rule that passes it',
      { ingress: { rules: Array.from({ length: 16 }, () => sized(250, 250)) }, egress: { rules: [{ action: 'deny' }] } },
      '/spec/egress/rules/0',
      /^the policy's rules expand to up to 1000001 nftables elements in all \(this rule passes the limit\), more than 1000000 per policy: cover addresses with fewer, wider CIDRs and ports with ranges \("8000-8080"\) instead of listing them one by one, or split the policy into several policies$/,
    ],
  ])('refused: %s', (_name, spec, path, message) => {
    const issues = issuesOf(policy(spec));
    expect(issues.map((i) => i.path)).toEqual([path]);
    expect(issues[0]?.message).toMatch(message);
  });

  test('a rule past the rule limit ends in how to fix it and carries the number and the limit', () => {
    expect(checkFirewallPolicySpec(ingress(sized(257, 256)))).toEqual([
      { path: R0, message: expect.stringMatching(FIX), value: 65_792, allowed: 'at most 65536 elements per rule' },
    ]);
  });

  test('1,024 peers x 1,024 ports (a million elements) is refused as a rule and as a policy', () => {
    const issues = checkFirewallPolicySpec(ingress(sized(1024, 1024)));
    expect(issues.map((i) => [i.path, i.value])).toEqual([
      [R0, 1_048_576],
      [R0, 1_048_576],
    ]);
    expect(issues[1]?.allowed).toBe('at most 1000000 elements per policy');
  });
});
