// A FirewallPolicy's status: per carrying host readiness, counters summed
// over hosts, observedGeneration and the Ready condition, from the agents'
// last status reports. Pure aggregation first, then through the REST API.
import type { FirewallPolicyReport } from '../../../../model/agent-protocol.js';
import type { FirewallPolicy, FirewallPolicySpec } from '../../../../model/firewall.js';
import type { LiveHost } from '../../../../controller/hosts/live-hosts.js';
import { firewallPolicyStatus, type PolicyCarrier } from '../../../../controller/status/firewall-policy-status.js';
import { eventsHarness } from '../support/events-harness.js';

const SPEC: FirewallPolicySpec = {
  appliesTo: { selector: { app: 'db' } },
  ingress: { defaultAction: 'deny', rules: [{ name: 'from-web', action: 'allow' }, { action: 'log' }] },
  egress: { rules: [{ name: 'dns', action: 'allow' }] },
};
const policy = (generation = 3): FirewallPolicy => ({ apiVersion: 'weft.dev/v1', kind: 'FirewallPolicy', metadata: { name: 'db', generation, creationTimestamp: '2024-01-01T00:00:00.000Z' }, spec: SPEC });

const report = (over: Partial<FirewallPolicyReport> = {}): FirewallPolicyReport => ({ generation: 3, ready: true, endpoints: 1, counters: [], ...over });
const live = (firewall: Record<string, FirewallPolicyReport> | undefined, over: Partial<LiveHost> = {}): LiveHost => ({
  connected: true, lastSeen: 1, lastHeartbeat: 1, appliedRevision: 10, sentRevision: 10, networks: {}, statusAt: 1_700_000_000_000, ...(firewall ? { firewall } : {}), ...over,
});
const carrier = (host: string, l: LiveHost | undefined, endpoints = 1): PolicyCarrier => ({ host, endpoints, live: l });

describe('firewallPolicyStatus', () => {
  test('every carrying host enforcing the current generation: Ready, observedGeneration current, counters summed per direction and rule', () => {
    const s = firewallPolicyStatus(
      policy(),
      [
        carrier('h2', live({ db: report({ endpoints: 2, counters: [{ direction: 'ingress', rule: 'default', packets: 5, bytes: 500 }, { direction: 'ingress', rule: 'from-web', packets: 1, bytes: 60 }] }) }), 2),
        carrier('h1', live({ db: report({ counters: [{ direction: 'egress', rule: 'dns', packets: 3, bytes: 200 }, { direction: 'ingress', rule: 'from-web', packets: 10, bytes: 1000 }] }) })),
      ],
      3,
    );
    expect(s.endpoints).toBe(3);
    expect(s.hosts).toEqual({ h1: { ready: true, revision: 10, endpoints: 1 }, h2: { ready: true, revision: 10, endpoints: 2 } });
    // Rule order as written, the default after the rules, ingress before egress.
    expect(s.counters).toEqual([
      { direction: 'ingress', rule: 'from-web', packets: 11, bytes: 1060 },
      { direction: 'ingress', rule: 'default', packets: 5, bytes: 500 },
      { direction: 'egress', rule: 'dns', packets: 3, bytes: 200 },
    ]);
    expect(s.observedGeneration).toBe(3);
    expect(s.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'Ready', message: 'generation 3 enforced on 2 hosts (3 endpoints)' });
  });

  test('a host still on the previous generation: not ready, named in the condition, observedGeneration the older one', () => {
    const s = firewallPolicyStatus(policy(), [carrier('h1', live({ db: report() })), carrier('h2', live({ db: report({ generation: 2 }) }))], 2);
    expect(s.hosts?.h2).toEqual({ ready: false, revision: 10, endpoints: 1, message: 'enforcing generation 2; generation 3 not applied yet' });
    expect(s.observedGeneration).toBe(2);
    expect(s.conditions?.[0]).toMatchObject({ status: 'False', reason: 'HostsNotReady', message: 'not enforced on "h2" (enforcing generation 2; generation 3 not applied yet)' });
  });

  test("the agent's own message explains a report that is not ready", () => {
    const s = firewallPolicyStatus(policy(), [carrier('h1', live({ db: report({ ready: false, message: 'nft: table too large' }) }))], 1);
    expect(s.hosts?.h1).toMatchObject({ ready: false, message: 'nft: table too large' });
    expect(s.conditions?.[0]?.message).toBe('not enforced on "h1" (nft: table too large)');
  });

  test('no report yet, a disconnected agent, a plan not yet applied: each says why; observedGeneration unknown without a report', () => {
    const s = firewallPolicyStatus(
      policy(),
      [
        carrier('a', live({})),
        carrier('b', live(undefined)),
        carrier('c', live({ db: report() }, { connected: false })),
        carrier('d', live({ db: report() }, { appliedRevision: 9, sentRevision: 10 })),
        carrier('e', undefined),
      ],
      5,
    );
    expect(s.hosts?.a?.message).toBe('waiting for the agent to report this policy');
    expect(s.hosts?.b?.message).toBe('the agent reports no firewall status (is it older than FirewallPolicy?)');
    expect(s.hosts?.c).toEqual({ ready: false, revision: 10, endpoints: 1, message: 'agent not connected' });
    expect(s.hosts?.d).toMatchObject({ ready: false, revision: 9, message: 'applying revision 10' });
    expect(s.hosts?.e).toEqual({ ready: false, revision: 0, endpoints: 1, message: 'agent not connected' });
    expect(s.observedGeneration).toBeUndefined();
    expect(s.conditions?.[0]?.status).toBe('False');
  });

  test('a policy no endpoint matches is trivially Ready at its generation', () => {
    const s = firewallPolicyStatus(policy(), [], 0);
    expect(s).toMatchObject({ endpoints: 0, hosts: {}, counters: [], observedGeneration: 3 });
    expect(s.conditions?.[0]).toMatchObject({ status: 'True', reason: 'NoEndpoints', lastTransitionTime: '2024-01-01T00:00:00.000Z' });
  });

  test('counters of a rule the policy no longer has come after the known ones', () => {
    const s = firewallPolicyStatus(policy(), [carrier('h1', live({ db: report({ counters: [{ direction: 'ingress', rule: 'old', packets: 1, bytes: 1 }, { direction: 'ingress', rule: '1', packets: 2, bytes: 2 }] }) }))], 1);
    expect(s.counters?.map((c) => c.rule)).toEqual(['1', 'old']);
  });
});

describe('GET /api/v1/firewallpolicies', () => {
  type Harness = Awaited<ReturnType<typeof eventsHarness>>;
  let h: Harness;
  afterEach(async () => h.close());

  const relabel = (name: string, labels: Record<string, string>) => {
    const rec = h.store.read((r) => r.getEndpointRecord(name));
    if (!rec) throw new Error(`no record ${name}`);
    h.store.write((tx) => tx.putEndpointRecord({ ...rec, metadata: { ...rec.metadata, labels } }));
  };

  test('status is computed from the endpoints it applies to and the live reports of their hosts', async () => {
    h = await eventsHarness();
    h.resources.createNetwork({ kind: 'Network', metadata: { name: 'red' }, spec: { subnet: '10.20.0.0/24' } });
    h.resources.createFirewallPolicy({ kind: 'FirewallPolicy', metadata: { name: 'db' }, spec: SPEC });
    h.attach('h1', 'red', 'db-1');
    h.attach('h2', 'red', 'web-2');

    let got = (await h.get('/api/v1/firewallpolicies/db')).body;
    expect(got.status).toMatchObject({ endpoints: 0, hosts: {}, observedGeneration: 1, conditions: [{ status: 'True', reason: 'NoEndpoints' }] });

    relabel('db-1', { app: 'db' });
    got = (await h.get('/api/v1/firewallpolicies/db')).body;
    expect(got.status.endpoints).toBe(1);
    expect(got.status.hosts).toEqual({ h1: { ready: false, revision: expect.any(Number), endpoints: 1, message: 'the agent reports no firewall status (is it older than FirewallPolicy?)' } });
    expect(got.status.conditions[0]).toMatchObject({ status: 'False', reason: 'HostsNotReady' });
    expect(got.status.observedGeneration).toBeUndefined();

    const counters = [{ direction: 'ingress' as const, rule: 'from-web', packets: 4, bytes: 400 }];
    h.live.status('h1', Date.now(), h.store.revision(), {}, { firewall: { db: { generation: 1, ready: true, endpoints: 1, counters } } });
    got = (await h.get('/api/v1/firewallpolicies/db')).body;
    expect(got.status).toMatchObject({ endpoints: 1, counters, observedGeneration: 1, conditions: [{ status: 'True', reason: 'Ready' }] });
    expect(got.status.hosts.h1).toEqual({ ready: true, revision: h.store.revision(), endpoints: 1 });

    const list = (await h.get('/api/v1/firewallpolicies')).body;
    expect(list.items.map((p: FirewallPolicy) => p.status?.conditions?.[0]?.reason)).toEqual(['Ready']);
  });

  test("an endpoint's labels are its record's with its declaration's over them, and `get endpoints` shows the same", async () => {
    h = await eventsHarness();
    h.resources.createNetwork({ kind: 'Network', metadata: { name: 'red' }, spec: { subnet: '10.20.0.0/24' } });
    h.resources.createFirewallPolicy({ kind: 'FirewallPolicy', metadata: { name: 'db' }, spec: SPEC });
    h.attach('h1', 'red', 'db-1');
    relabel('db-1', { app: 'web', from: 'runtime' });
    const rec = h.store.read((r) => r.getEndpointRecord('db-1'));
    h.store.write((tx) =>
      tx.putResource({ apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: 'db-1', labels: { app: 'db' } }, spec: { ...(rec?.spec as NonNullable<typeof rec>['spec']) } }),
    );
    expect((await h.get('/api/v1/firewallpolicies/db')).body.status.endpoints).toBe(1);
    expect((await h.get('/api/v1/endpoints/db-1')).body.metadata.labels).toEqual({ app: 'db', from: 'runtime' });
  });
});
