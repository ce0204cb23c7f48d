// Plan policies -> the model of nft objects: groups per policy list, blocks,
// verdicts, defaults, and what a label change or a one-rule edit touches.
import type { PlanFirewallPolicy } from '../../../../model/agent-protocol.js';
import { CompileCache, compilePolicies, logChainName } from '../../../../agents/firewall/policy-compiler.js';
import type { PolicyModel } from '../../../../agents/datapath/policy-model.js';
import { ipv4ToInt } from '../../../../model/ip.js';

const sets = (o: Record<string, string[]>) => new Map(Object.entries(o));

const web: PlanFirewallPolicy = {
  name: 'web',
  priority: 100,
  generation: 3,
  appliesTo: 'applies:web',
  ingress: {
    defaultAction: 'deny',
    rules: [
      { name: 'clients', action: 'allow', protocol: 'tcp', ports: [[80, 80], [443, 443]], peers: [{ set: 'peer:clients' }] },
      { name: 'audit', action: 'log', protocol: 'any' },
    ],
  },
};

const ops: PlanFirewallPolicy = {
  name: 'ops',
  priority: 10,
  generation: 1,
  appliesTo: 'applies:ops',
  ingress: { defaultAction: 'reject', rules: [{ name: 'ssh', action: 'allow', protocol: 'tcp', ports: [[22, 22]], peers: [{ cidr: '198.18.0.0/16', except: ['198.18.5.0/24'] }] }] },
  egress: { rules: [{ name: 'no-smtp', action: 'reject', protocol: 'tcp', ports: [[25, 25]] }] },
};

describe('compilePolicies', () => {
  test('an endpoint gets a group per direction; the elements carry the rule and verdict', () => {
    const m = compilePolicies([web], sets({ 'applies:web': ['10.0.0.5'], 'peer:clients': ['10.0.0.7', '10.0.0.8'] }));
    const group = m.entries.ingress.get('10.0.0.5');
    expect(group).toBeDefined();
    expect(m.entries.egress.size).toBe(0);
    const g = m.groups.get(group as string);
    expect(g).toMatchObject({ direction: 'ingress', defaultAction: 'deny', defaultPolicy: 'web' });
    // the log rule overlaps the allow boxes: a second lookup
    expect(g?.maps).toHaveLength(2);
    const first = [...(m.maps.get(g?.maps[0] as string)?.values() ?? [])];
    // two adjacent addresses merged into one range, times two ports
    expect(first.map((e) => [e.box[0], e.box[2], e.verdict.kind, e.ref.rule])).toEqual([
      [[ipv4ToInt('10.0.0.7'), ipv4ToInt('10.0.0.8')], [80, 80], 'return', 'clients'],
      [[ipv4ToInt('10.0.0.7'), ipv4ToInt('10.0.0.8')], [443, 443], 'return', 'clients'],
    ]);
    const log = [...(m.maps.get(g?.maps[1] as string)?.values() ?? [])];
    expect(log[0]?.verdict).toEqual({ kind: 'jump', target: logChainName({ policy: 'web', direction: 'ingress', rule: 'audit' }) });
    expect(m.logChains.size).toBe(1);
  });

  test('policies join in priority order; the first default wins; except splits the CIDR', () => {
    const m = compilePolicies([web, ops], sets({ 'applies:web': ['10.0.0.5'], 'applies:ops': ['10.0.0.5'], 'peer:clients': [] }));
    const g = m.groups.get(m.entries.ingress.get('10.0.0.5') as string);
    expect(g).toMatchObject({ defaultAction: 'reject', defaultPolicy: 'ops' });
    const ssh = [...(m.maps.get(g?.maps[0] as string)?.values() ?? [])].filter((e) => e.ref.rule === 'ssh');
    expect(ssh.map((e) => e.box[0])).toEqual([
      [ipv4ToInt('198.18.0.0'), ipv4ToInt('198.18.4.255')],
      [ipv4ToInt('198.18.6.0'), ipv4ToInt('198.18.255.255')],
    ]);
    const eg = m.groups.get(m.entries.egress.get('10.0.0.5') as string);
    expect(eg).toMatchObject({ defaultAction: 'allow' });
  });

  test('endpoints with the same policies share one group', () => {
    const m = compilePolicies([web], sets({ 'applies:web': ['10.0.0.5', '10.0.0.6'], 'peer:clients': ['10.0.0.7'] }));
    expect(new Set(m.entries.ingress.values()).size).toBe(1);
    expect(m.groups.size).toBe(1);
  });

  test('a label change moves elements only: same groups, same maps', () => {
    const before = compilePolicies([web], sets({ 'applies:web': ['10.0.0.5'], 'peer:clients': ['10.0.0.7'] }));
    const after = compilePolicies([web], sets({ 'applies:web': ['10.0.0.5', '10.0.0.9'], 'peer:clients': ['10.0.0.7', '10.0.0.20'] }));
    expect([...after.groups.keys()]).toEqual([...before.groups.keys()]);
    expect([...after.maps.keys()]).toEqual([...before.maps.keys()]);
  });

  test('an unknown address set matches nobody', () => {
    const m = compilePolicies([web], sets({ 'applies:web': ['10.0.0.5'] }));
    const g = m.groups.get(m.entries.ingress.get('10.0.0.5') as string);
    const rules = [...(m.maps.get(g?.maps[0] as string)?.values() ?? [])].map((e) => e.ref.rule);
    expect(rules).not.toContain('clients');
  });
});

describe('compilePolicies with a CompileCache (the agent\'s one-rule changes)', () => {
  // 300 allow rules, one peer and port each: one block of 300 elements.
  const many = (edit?: { at: number; port: number }): PlanFirewallPolicy => ({
    name: 'many',
    priority: 100,
    generation: 1,
    appliesTo: 'applies:many',
    ingress: {
      defaultAction: 'deny',
      rules: Array.from({ length: 300 }, (_, i) => ({
        name: `r${i}`,
        action: 'allow' as const,
        protocol: 'tcp' as const,
        ports: [[edit?.at === i ? edit.port : 1000 + i, edit?.at === i ? edit.port : 1000 + i]] as [number, number][],
        peers: [{ cidr: `198.18.${i % 250}.${1 + Math.floor(i / 250)}/32` }],
      })),
    },
  });
  const s = sets({ 'applies:many': ['10.0.0.5'] });
  // Rule objects are kept across plans when unchanged (as the agent's plan store does).
  const edited = (base: PlanFirewallPolicy, at: number, port: number): PlanFirewallPolicy => {
    const fresh = many({ at, port }).ingress!.rules[at]!;
    return { ...base, ingress: { ...base.ingress!, rules: base.ingress!.rules.map((r, i) => (i === at ? fresh : r)) } };
  };
  const elements = (m: PolicyModel) =>
    [...m.maps.values()].flatMap((e) => [...e.entries()].map(([k, v]) => `${k} ${v.verdict.kind} ${v.ref.rule}`)).sort();

  test('an edit that fits its block changes that map only, as a new object; the model before it is untouched', () => {
    const cache = new CompileCache();
    const before = many();
    const m1 = compilePolicies([before], s, cache);
    const snapshot = elements(m1);
    const after = edited(before, 42, 9042);
    const m2 = compilePolicies([after], s, cache);
    expect(elements(m1)).toEqual(snapshot);
    expect(elements(m2)).toEqual(elements(compilePolicies([after], s)));
    expect(elements(m2).filter((e) => e.endsWith(' r42'))).toEqual([`${ipv4ToInt('198.18.42.1')}-${ipv4ToInt('198.18.42.1')}/6-6/9042-9042 return r42`]);
    const [name] = [...m2.maps.keys()];
    expect(m2.maps.get(name!)).not.toBe(m1.maps.get(name!));
    // Compiling the same plan again hands on the very same maps (the diff skips them).
    const m3 = compilePolicies([after], s, cache);
    expect(m3.maps.get(name!)).toBe(m2.maps.get(name!));
  });

  test('an edit that overlaps another rule is packed afresh: the same elements as without a cache', () => {
    const cache = new CompileCache();
    const before = many();
    compilePolicies([before], s, cache);
    // r7 becomes a deny of r8's peer and port: r8 can no longer match, so it holds no element.
    const clash: PlanFirewallPolicy = {
      ...before,
      ingress: {
        ...before.ingress!,
        rules: before.ingress!.rules.map((r, i) => (i === 7 ? { ...r, action: 'deny' as const, ports: [[1008, 1008]] as [number, number][], peers: [{ cidr: '198.18.8.1/32' }] } : r)),
      },
    };
    const m = compilePolicies([clash], s, cache);
    expect(elements(m)).toEqual(elements(compilePolicies([clash], s)));
    expect(elements(m).filter((e) => / r[78]$/.test(e))).toEqual([`${ipv4ToInt('198.18.8.1')}-${ipv4ToInt('198.18.8.1')}/6-6/1008-1008 drop r7`]);
  });
});
