// FirewallPolicy in the CLI: the get table, describe (spec summary, rules
// in order with their counters, hosts, conditions, events), get -o yaml|json
// applied back unchanged, delete, wait and explain.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderDescribe } from '../../../cli/describe-view.js';
import { renderResourceTable } from '../../../cli/resource-table.js';
import type { FirewallPolicy } from '../../../model/kinds.js';
import { eventsHarness } from '../controller/support/events-harness.js';
import { cli } from './support/cli-harness.js';

const NOW = Date.parse('2026-01-10T12:00:00Z');

const policy = (name: string, spec: FirewallPolicy['spec'], over: Partial<FirewallPolicy> = {}): FirewallPolicy => ({
  apiVersion: 'weft.dev/v1',
  kind: 'FirewallPolicy',
  metadata: { name, creationTimestamp: '2026-01-10T11:00:00Z', resourceVersion: '7', generation: 2, labels: { app: 'shop' } },
  spec,
  ...over,
});

const DB: FirewallPolicy['spec'] = {
  appliesTo: { network: 'db', selector: { tier: 'db' } },
  priority: 100,
  portSets: { pg: [5432], metrics: [9100, '9180-9189'] },
  ingress: {
    defaultAction: 'deny',
    rules: [
      { name: 'app', action: 'allow', from: [{ selector: { tier: 'app' } }, { network: 'mgmt' }], protocol: 'tcp', ports: ['@pg'] },
      { action: 'allow', log: true, from: [{ cidr: '10.0.0.0/8', except: ['10.9.0.0/16', '10.8.0.0/16'] }], protocol: 'icmp' },
    ],
  },
  egress: { rules: [{ name: 'audit', action: 'log', to: [{ selector: {} }] }] },
};

describe('weft get firewallpolicies: the table', () => {
  test('priority, what it applies to, rules per direction with their default, endpoints and age', () => {
    const a = policy('db-in', DB, { status: { endpoints: 3 } });
    const b = policy('open', {});
    const c = policy('web', { appliesTo: { selector: { tier: 'web' } }, priority: 7, egress: { defaultAction: 'reject' } });
    expect(renderResourceTable('FirewallPolicy', [a, b, c], false, NOW)).toBe(
      [
        'NAME    PRIORITY   APPLIES-TO           INGRESS   EGRESS     ENDPOINTS   AGE',
        'db-in   100        network:db,tier=db   2/deny    1          3           60m',
        'open    1000       <all>                0         0          <none>      60m',
        'web     7          tier=web             0         0/reject   <none>      60m',
        '',
      ].join('\n'),
    );
  });

  test('-o wide adds ready hosts and labels', () => {
    const a = policy('db-in', DB, { status: { hosts: { h1: { ready: true, revision: 3 }, h2: { ready: false, revision: 2 } } } });
    const [header, row] = renderResourceTable('FirewallPolicy', [a], true, NOW).split('\n');
    expect(header).toBe('NAME    PRIORITY   APPLIES-TO           INGRESS   EGRESS   ENDPOINTS   AGE   HOSTS   LABELS');
    expect(row).toMatch(/ 60m +1\/2 +app=shop$/);
  });
});

describe('weft describe firewallpolicy: the rendering', () => {
  const status: FirewallPolicy['status'] = {
    endpoints: 4,
    observedGeneration: 2,
    hosts: { h2: { ready: false, revision: 6, endpoints: 1, message: 'applying revision 7' }, h1: { ready: true, revision: 7, endpoints: 3 } },
    counters: [
      { direction: 'ingress', rule: 'app', packets: 120, bytes: 9600 },
      { direction: 'ingress', rule: 'default', packets: 3, bytes: 180 },
      { direction: 'egress', rule: '0', packets: 5, bytes: 400 },
    ],
    conditions: [{ type: 'Ready', status: 'False', reason: 'HostsNotReady', message: 'not enforced on "h2" (applying revision 7)', lastTransitionTime: '2026-01-10T11:59:00Z' }],
  };
  const out = renderDescribe('FirewallPolicy', policy('db-in', DB, { status }), [], NOW);

  test('the spec as a summary', () => {
    expect(out).toContain('Kind:                 FirewallPolicy\n');
    expect(out).toContain('Endpoints:            4\n');
    expect(out).toContain('Priority:             100\n');
    expect(out).toContain('Applies to:           network:db,tier=db\n');
    expect(out).toContain('Port sets:            @pg=5432 @metrics=9100,9180-9189\n');
    expect(out).toContain('Ingress:              2 rules, default deny\n');
    expect(out).toContain('Egress:               1 rule, default not set (allow, unless a policy before this one sets one)\n');
    expect(out).not.toMatch(/^Spec:/m);
  });

  test('every rule in order with its peers, protocol, ports and counters (0 when none), then the default', () => {
    const rules = out.slice(out.indexOf('Rules:\n'), out.indexOf('Conditions:')).trimEnd().split('\n');
    expect(rules).toHaveLength(6);
    expect(rules[1]).toMatch(/^ {2}DIRECTION +# +NAME +ACTION +PEERS +PROTOCOL +PORTS +PACKETS +BYTES$/);
    expect(rules[2]).toMatch(/^ {2}ingress +0 +app +allow +tier=app \| network:mgmt +tcp +@pg +120 +9600$/);
    expect(rules[3]).toMatch(/^ {2}ingress +1 +<none> +allow\+log +10\.0\.0\.0\/8 except 10\.9\.0\.0\/16,10\.8\.0\.0\/16 +icmp +<all> +0 +0$/);
    expect(rules[4]).toMatch(/^ {2}ingress +- +default +deny +<any> +any +<all> +3 +180$/);
    expect(rules[5]).toMatch(/^ {2}egress +0 +audit +log +<all endpoints> +any +<all> +0 +0$/);
  });

  test('per-host status, whether the data plane caught up, and the conditions', () => {
    expect(out).toContain('Observed generation:  2\n');
    expect(out).toContain('Data plane caught up: no: waiting for h2 (1 of 2 hosts)\n');
    expect(out).toMatch(/^Hosts:\n {2}HOST +READY +APPLIED-REVISION +CURRENT +ENDPOINTS +MESSAGE\n {2}h1 +True +7 +yes +3 +<none>\n {2}h2 +False +6 +no +1 +applying revision 7$/m);
    expect(out).toMatch(/^Conditions:\n {2}TYPE +STATUS +REASON +LAST-TRANSITION +MESSAGE\n {2}Ready +False +HostsNotReady +2026-01-10T11:59:00Z \(60s ago\) +not enforced on "h2"/m);
  });

  test('a policy with no status and no rules says so', () => {
    const bare = renderDescribe('FirewallPolicy', policy('bare', {}), [], NOW);
    expect(bare).toContain('Priority:             1000 (default)\n');
    expect(bare).toContain('Applies to:           <all endpoints>\n');
    expect(bare).toContain('Ingress:              <none>\n');
    expect(bare).toContain('Rules:                <none>\n');
    expect(bare).toContain('Hosts:                <none>\n');
    expect(bare).toContain('Endpoints:            <none>\n');
  });
});

describe('weft against a controller', () => {
  type H = Awaited<ReturnType<typeof eventsHarness>>;
  let h: H;
  let dir: string;
  beforeEach(async () => {
    h = await eventsHarness();
    dir = mkdtempSync(join(tmpdir(), 'weft-fwp-'));
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await h.close();
  });

  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const DOCS = `apiVersion: weft.dev/v1
kind: FirewallPolicy
metadata:
  name: db-in
  labels: { tier: db }
spec:
  appliesTo: { network: db }
  priority: 100
  ingress:
    defaultAction: deny
    rules:
      - name: app
        action: allow
        from: [{ selector: { tier: app } }]
        protocol: tcp
        ports: [5432]
---
apiVersion: weft.dev/v1
kind: FirewallPolicy
metadata:
  name: out
spec:
  egress: { rules: [{ action: reject, to: [{ cidr: 169.254.169.254/32 }] }] }
`;

  test('apply, get (all, by label, by name in every alias), describe with events', async () => {
    const applied = await h.weft('apply', '-f', file('p.yaml', DOCS));
    expect(applied).toEqual({ code: 0, out: 'firewallpolicy/db-in created\nfirewallpolicy/out created\n', err: '' });

    const all = await h.weft('get', 'firewallpolicies');
    expect(all.code).toBe(0);
    expect(all.out).toMatch(/^NAME +PRIORITY +APPLIES-TO +INGRESS +EGRESS +ENDPOINTS +AGE\ndb-in +100 +network:db +1\/deny +0 +0 +\d+s\nout +1000 +<all> +0 +1 +0 +\d+s\n$/);
    expect((await h.weft('get', 'fwp', '-l', 'tier=db')).out.split('\n')).toHaveLength(3);
    for (const alias of ['firewallpolicy', 'fwp', 'policy', 'policies', 'FirewallPolicy']) {
      expect((await h.weft('get', alias, 'out')).out).toMatch(/^NAME.*\nout +1000 /);
    }

    const described = await h.weft('describe', 'fwp', 'db-in');
    expect(described.code).toBe(0);
    expect(described.out).toMatch(/^Kind: +FirewallPolicy$/m);
    expect(described.out).toMatch(/^ {2}ingress +0 +app +allow +tier=app +tcp +5432 +0 +0$/m);
    expect(described.out).toMatch(/^Events:\n {2}TYPE +REASON +AGE +MESSAGE\n {2}Normal +Created +\d+s +firewallpolicy created \(generation 1\)$/m);
  });

  test('get -o yaml and -o json apply back unchanged, and the store does not move', async () => {
    await h.weft('apply', '-f', file('p.yaml', DOCS));
    const revision = h.store.revision();
    const yaml = await h.weft('get', 'firewallpolicies', '-o', 'yaml');
    expect(yaml.out).toMatch(/^kind: FirewallPolicyList$/m);
    const json = await h.weft('get', 'fwp', 'db-in', '-o', 'json');
    const r = await h.weft('apply', '-f', file('list.yaml', yaml.out), '-f', file('one.json', json.out));
    // The same policy twice (list and single object) is a duplicate: apply them one at a time.
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/duplicate FirewallPolicy "db-in"/);
    expect((await h.weft('apply', '-f', join(dir, 'list.yaml'))).out).toBe('firewallpolicy/db-in unchanged\nfirewallpolicy/out unchanged\n');
    expect((await h.weft('apply', '-f', join(dir, 'one.json'))).out).toBe('firewallpolicy/db-in unchanged\n');
    expect(h.store.revision()).toBe(revision);
  });

  test('diff shows a changed rule; --dry-run=server names the changed fields and stores nothing', async () => {
    await h.weft('apply', '-f', file('p.yaml', DOCS));
    const revision = h.store.revision();
    const changed = file('q.yaml', DOCS.replace('ports: [5432]', 'ports: [5432, 6432]'));
    const diff = await h.weft('diff', '-f', changed);
    expect(diff.code).toBe(1);
    expect(diff.out).toMatch(/^\+ +- 6432$/m);
    const dry = await h.weft('apply', '-f', changed, '--dry-run=server');
    expect(dry.out).toMatch(/^firewallpolicy\/db-in configured \(server dry run\): spec\.ingress /m);
    expect(h.store.revision()).toBe(revision);
  });

  test('delete by name and by file; a missing one is an error unless --ignore-not-found', async () => {
    const p = file('p.yaml', DOCS);
    await h.weft('apply', '-f', p);
    expect(await h.weft('delete', 'firewallpolicy', 'out')).toEqual({ code: 0, out: 'firewallpolicy/out deleted\n', err: '' });
    expect(await h.weft('delete', 'fwp', 'out')).toMatchObject({ code: 1, err: 'error: firewallpolicy "out" does not exist\n' });
    expect(await h.weft('delete', '-f', p, '--ignore-not-found')).toEqual({ code: 0, out: 'firewallpolicy/db-in deleted\n', err: '' });
    expect(h.store.read((r) => r.listResources('FirewallPolicy'))).toEqual([]);
    const events = await h.get('/api/v1/events?kind=FirewallPolicy&name=out');
    expect(events.body.items.map((e: { reason: string }) => e.reason)).toEqual(['Created', 'Deleted']);
  });

  test('wait for Ready and for delete, as for networks', async () => {
    await h.weft('apply', '-f', file('p.yaml', DOCS));
    expect(await h.weft('wait', 'firewallpolicy/db-in', 'fwp/out', '--for=condition=Ready', '--timeout=5s')).toEqual({
      code: 0,
      out: 'firewallpolicy/db-in condition met\nfirewallpolicy/out condition met\n',
      err: '',
    });
    const del = setTimeout(() => h.resources.deleteFirewallPolicy('out'), 300);
    try {
      expect(await h.weft('wait', 'policy/out', '--for=delete', '--timeout=20s')).toMatchObject({ code: 0, out: 'firewallpolicy/out condition met\n' });
    } finally {
      clearTimeout(del);
    }
    expect(await h.weft('wait', 'fwp/nope', '--for=condition=Ready', '--timeout=1s')).toMatchObject({ code: 1, err: 'error: firewallpolicy "nope" does not exist\n' });
  });
});

describe('weft explain firewallpolicy', () => {
  test('walks into the rules of a direction', async () => {
    const r = await cli('explain', 'firewallpolicy.spec.ingress.rules');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^KIND: +FirewallPolicy\n/);
    expect(r.out).toMatch(/^FIELD: +spec\.ingress\.rules$/m);
    expect(r.out).toMatch(/^TYPE: +\[\]object$/m);
    expect(r.out).toMatch(/^ {2}action +<string> +-required- +allow, deny/m);
    expect(r.out).toMatch(/^ {2}from +<\[\]object> /m);
    expect(r.out).toMatch(/^ {2}ports +<\[\]integer\|string> +Destination ports/m);
  });

  test('a misspelled field suggests the right one', async () => {
    const r = await cli('explain', 'fwp.spec.ingres');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/field "ingres" does not exist in FirewallPolicy\.spec \(did you mean "ingress"\?\)/);
  });
});
