import {
  CompiledPolicyCache, FirewallPlanner, MAX_SET_NAME, appliesSetName, compilePolicy, matchesSelector, peerSetName, planFirewall, resolvePorts, type FirewallEndpoint,
} from '../../../../controller/planner/firewall-planner.js';
import type { FirewallPolicy, FirewallPolicySpec } from '../../../../model/firewall.js';

function policy(name: string, spec: FirewallPolicySpec, generation = 1): FirewallPolicy {
  return { apiVersion: 'weft.dev/v1', kind: 'FirewallPolicy', metadata: { name, generation }, spec };
}

const ep = (name: string, host: string, network: string, ip: string, labels?: Record<string, string>): FirewallEndpoint => ({ name, host, network, ip, ...(labels ? { labels } : {}) });

/** h1: web-1 (red, app=web), db-1 (red, app=db); h2: web-2 (red, app=web), api-2 (blue, app=web); h3: lb-3 (blue, app=lb). */
const ENDPOINTS: FirewallEndpoint[] = [
  ep('web-1', 'h1', 'red', '10.0.0.11', { app: 'web' }),
  ep('db-1', 'h1', 'red', '10.0.0.12', { app: 'db', tier: 'data' }),
  ep('web-2', 'h2', 'red', '10.0.0.9', { app: 'web' }),
  ep('api-2', 'h2', 'blue', '10.1.0.5', { app: 'web' }),
  ep('lb-3', 'h3', 'blue', '10.1.0.7', { app: 'lb' }),
];

describe('selection per host', () => {
  const webOnRed = policy('web-red', { appliesTo: { network: 'red', selector: { app: 'web' } }, ingress: { rules: [{ action: 'allow' }] } });
  const dbOnly = policy('db-only', { appliesTo: { selector: { app: 'db' } }, ingress: { defaultAction: 'deny' } });
  const everyone = policy('everyone', { egress: { rules: [{ action: 'deny', protocol: 'tcp', ports: [25] }] } });

  test('a host gets exactly the policies that apply to one of its endpoints (network AND selector), sorted by name', () => {
    const all = [webOnRed, dbOnly, everyone];
    expect(planFirewall(all, ENDPOINTS, 'h1').firewallPolicies.map((p) => p.name)).toEqual(['db-only', 'everyone', 'web-red']);
    expect(planFirewall(all, ENDPOINTS, 'h2').firewallPolicies.map((p) => p.name)).toEqual(['everyone', 'web-red']);
    // lb-3 is app=lb on blue: only the policy without appliesTo reaches it.
    expect(planFirewall(all, ENDPOINTS, 'h3').firewallPolicies.map((p) => p.name)).toEqual(['everyone']);
    expect(planFirewall(all, ENDPOINTS, 'h9')).toEqual({ firewallPolicies: [], addressSets: [] });
  });

  test("the applies set holds only this host's endpoints the policy applies to", () => {
    const p2 = planFirewall([webOnRed], ENDPOINTS, 'h2');
    expect(p2.firewallPolicies[0]?.appliesTo).toBe('applies:web-red');
    // api-2 is app=web but on blue: left out.
    expect(p2.addressSets).toEqual([{ name: 'applies:web-red', addresses: ['10.0.0.9'] }]);
    const p1 = planFirewall([everyone], ENDPOINTS, 'h1');
    expect(p1.addressSets).toEqual([{ name: 'applies:everyone', addresses: ['10.0.0.11', '10.0.0.12'] }]);
  });

  test('matchLabels: every key with its value; an empty selector matches every endpoint', () => {
    expect(matchesSelector({ app: 'db', tier: 'data' }, { app: 'db', tier: 'data', extra: 'x' })).toBe(true);
    expect(matchesSelector({ app: 'db', tier: 'data' }, { app: 'db' })).toBe(false);
    expect(matchesSelector({}, undefined)).toBe(true);
    expect(matchesSelector(undefined, { a: 'b' })).toBe(true);
    expect(matchesSelector({ a: '' }, undefined)).toBe(false);
  });
});

describe('peers and address sets', () => {
  const p = policy('db', {
    appliesTo: { selector: { app: 'db' } },
    ingress: {
      defaultAction: 'deny',
      rules: [
        { name: 'from-web', action: 'allow', from: [{ selector: { app: 'web' } }], protocol: 'tcp', ports: [5432] },
        { name: 'from-red-web', action: 'allow', from: [{ network: 'red', selector: { app: 'web' } }] },
        { name: 'from-blue', action: 'allow', from: [{ network: 'blue' }] },
        { name: 'from-lan', action: 'reject', from: [{ cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] }, { cidr: '172.16.0.0/12' }] },
      ],
    },
  });

  test('selector and network peers name sets of every host\'s matching endpoints; CIDR peers pass through', () => {
    const plan = planFirewall([p], ENDPOINTS, 'h1');
    const rules = plan.firewallPolicies[0]?.ingress?.rules ?? [];
    expect(rules.map((r) => r.peers)).toEqual([
      [{ set: 'peer:*:app=web' }],
      [{ set: 'peer:red:app=web' }],
      [{ set: 'peer:blue:' }],
      [{ cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] }, { cidr: '172.16.0.0/12' }],
    ]);
    expect(plan.addressSets).toEqual([
      { name: 'applies:db', addresses: ['10.0.0.12'] },
      { name: 'peer:*:app=web', addresses: ['10.0.0.9', '10.0.0.11', '10.1.0.5'] },
      { name: 'peer:blue:', addresses: ['10.1.0.5', '10.1.0.7'] },
      { name: 'peer:red:app=web', addresses: ['10.0.0.9', '10.0.0.11'] },
    ]);
  });

  test('addressSets are exactly the sets the host\'s policies name: none of a policy that applies elsewhere', () => {
    expect(planFirewall([p], ENDPOINTS, 'h2')).toEqual({ firewallPolicies: [], addressSets: [] });
  });

  test('a set no endpoint matches is still planned, empty', () => {
    const q = policy('q', { egress: { rules: [{ action: 'deny', to: [{ selector: { app: 'nobody' } }] }] } });
    expect(planFirewall([q], ENDPOINTS, 'h3').addressSets).toContainEqual({ name: 'peer:*:app=nobody', addresses: [] });
  });

  test('two policies naming one selector share its set', () => {
    const a = policy('a', { ingress: { rules: [{ action: 'allow', from: [{ selector: { app: 'web' } }] }] } });
    const b = policy('b', { egress: { rules: [{ action: 'allow', to: [{ selector: { app: 'web' } }] }] } });
    const names = planFirewall([a, b], ENDPOINTS, 'h3').addressSets.map((s) => s.name);
    expect(names).toEqual(['applies:a', 'applies:b', 'peer:*:app=web']);
  });

  test('set names sort selector keys, so key order in the document does not matter', () => {
    expect(peerSetName('red', { tier: 'data', app: 'db' })).toBe('peer:red:app=db,tier=data');
    expect(peerSetName(undefined, { app: 'db', tier: 'data' })).toBe(peerSetName(undefined, { tier: 'data', app: 'db' }));
  });

  test('a name over the limit keeps a readable prefix and ends in a hash of all of it', () => {
    const long = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`example.com/key-${i}`, 'v'.repeat(40)]));
    const name = peerSetName('red', long);
    expect(name.length).toBe(MAX_SET_NAME);
    expect(name.startsWith('peer:red:example.com/key-0=')).toBe(true);
    expect(name).toMatch(/~[0-9a-f]{16}$/);
    expect(peerSetName('red', { ...long, 'example.com/key-7': 'w'.repeat(40) })).not.toBe(name);
    expect(appliesSetName('p')).toBe('applies:p');
  });
});

describe('rule compilation', () => {
  test('names default to the position, protocol to any; log only when set; no ports and no peers mean every one', () => {
    const c = compilePolicy(
      policy('p', { priority: 10, egress: { defaultAction: 'reject', rules: [{ action: 'log' }, { name: 'dns', action: 'allow', log: true, protocol: 'udp', ports: [53], to: [] }] } }, 4),
    );
    expect(c).toEqual({
      name: 'p',
      priority: 10,
      generation: 4,
      appliesTo: 'applies:p',
      egress: {
        defaultAction: 'reject',
        rules: [
          { name: '0', action: 'log', protocol: 'any' },
          { name: 'dns', action: 'allow', log: true, protocol: 'udp', ports: [[53, 53]] },
        ],
      },
    });
  });

  test('priority defaults to 1000; a direction the policy leaves out is left out', () => {
    const c = compilePolicy(policy('p', { ingress: {} }));
    expect(c.priority).toBe(1000);
    expect(c.ingress).toEqual({ rules: [] });
    expect(c.egress).toBeUndefined();
  });

  test('ports: sorted, overlapping and adjacent ranges merged, port sets expanded', () => {
    const sets = { web: [80, 443, '8000-8080'], admin: ['8080-8090', 22] };
    expect(resolvePorts([443, '@web', 81, '@admin', '1000-1999', '2000-2999'], sets)).toEqual([
      [22, 22],
      [80, 81],
      [443, 443],
      [1000, 2999],
      [8000, 8090],
    ]);
    expect(resolvePorts(undefined, sets)).toBeUndefined();
    // Ports listed that resolve to none match nothing, not everything.
    expect(resolvePorts(['@missing'], sets)).toEqual([]);
  });

  test('the compiled policy does not depend on endpoints, rule order in the output is the order written', () => {
    const spec: FirewallPolicySpec = { ingress: { rules: [{ name: 'b', action: 'deny', from: [{ selector: { app: 'x' } }] }, { name: 'a', action: 'allow' }] } };
    const one = planFirewall([policy('p', spec)], ENDPOINTS, 'h1').firewallPolicies;
    const other = planFirewall([policy('p', spec)], ENDPOINTS.map((e) => ({ ...e, labels: { app: 'x' } })), 'h1').firewallPolicies;
    expect(other).toEqual(one);
    expect(one[0]?.ingress?.rules.map((r) => r.name)).toEqual(['b', 'a']);
  });

  test('the plan is the same whatever order policies and endpoints come in', () => {
    const ps = [
      policy('z', { priority: 1, ingress: { rules: [{ action: 'allow', from: [{ selector: { app: 'web' } }] }] } }),
      policy('a', { priority: 2, egress: { rules: [{ action: 'deny', to: [{ network: 'blue' }] }] } }),
    ];
    const plan = planFirewall(ps, ENDPOINTS, 'h2');
    expect(planFirewall([...ps].reverse(), [...ENDPOINTS].reverse(), 'h2')).toEqual(plan);
    expect(plan.firewallPolicies.map((p) => p.name)).toEqual(['a', 'z']);
  });
});

describe('across planning passes', () => {
  /** uid null: a policy not from the store */
  const stored = (generation: number, port: number, uid: string | null = 'u-1'): FirewallPolicy => {
    const p = policy('web', { appliesTo: { selector: { app: 'web' } }, ingress: { rules: [{ action: 'allow', protocol: 'tcp', ports: [port] }] } }, generation);
    if (uid !== null) p.metadata.uid = uid;
    return p;
  };
  const compiledFor = (p: FirewallPolicy, cache: CompiledPolicyCache) => new FirewallPlanner([p], ENDPOINTS, cache).planHost('h1').firewallPolicies[0];

  test('a stored policy is compiled once per generation: the next pass gets the same object', () => {
    const cache = new CompiledPolicyCache();
    const first = compiledFor(stored(1, 80), cache);
    // read again from the store: a new object, the same uid and generation
    expect(compiledFor(stored(1, 80), cache)).toBe(first);
    const next = compiledFor(stored(2, 81), cache);
    expect(next).not.toBe(first);
    expect(next).toEqual(compilePolicy(stored(2, 81)));
  });

  test('a policy made again (new uid) or one without a uid is compiled afresh', () => {
    const cache = new CompiledPolicyCache();
    const first = compiledFor(stored(1, 80), cache);
    expect(compiledFor(stored(1, 81, 'u-2'), cache)).toEqual(compilePolicy(stored(1, 81)));
    expect(compiledFor(stored(1, 81, 'u-2'), cache)).not.toBe(first);
    const loose = compiledFor(stored(1, 80, null), cache);
    expect(compiledFor(stored(1, 80, null), cache)).not.toBe(loose);
  });

  test('appliedCounts: every endpoint the policy applies to, per host', () => {
    const web = policy('web', { appliesTo: { selector: { app: 'web' } } });
    const planner = new FirewallPlanner([web], ENDPOINTS);
    expect(planner.appliedCounts('web')).toEqual({ total: 3, byHost: new Map([['h1', 1], ['h2', 2]]) });
    expect(planner.appliedCounts('missing')).toEqual({ total: 0, byHost: new Map() });
  });
});
