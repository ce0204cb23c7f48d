// FirewallPolicy end to end through the hub: a policy reaches the agents
// whose endpoints it applies to, a label change reaches them as an
// address-set-only delta, status reports make the policy Ready, and
// firewallLog entries become events on it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type RunningController } from '../../../../controller/main.js';
import type { AgentHello, EndpointReport } from '../../../../model/agent-protocol.js';
import { emptyPlanDelta } from '../../../../model/plan-delta.js';
import { TestAgent } from '../support/agent-client.js';
import { type JsonBody, adminRest } from '../support/harness.js';

const rep = (name: string, ip: string, labels: Record<string, string>): EndpointReport => ({
  name, network: 'n', containerId: name.split('.')[0] as string, ifname: 'eth0', ip, mac: '02:00:00:00:00:01', hostIfname: 'wv-1', netns: '/run/netns/x', labels,
});
const hello = (host: string, address: string, endpoints: EndpointReport[]): AgentHello => ({
  type: 'hello', host, address, agentVersion: 'test', underlayMtu: 1500, appliedRevision: 0, endpoints,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const POLICY = {
  kind: 'FirewallPolicy',
  metadata: { name: 'db' },
  spec: {
    appliesTo: { selector: { app: 'db' } },
    ingress: { defaultAction: 'deny', rules: [{ name: 'from-web', action: 'allow', from: [{ selector: { app: 'web' } }], protocol: 'tcp', ports: [5432] }] },
  },
};

describe('agent hub: firewall policies', () => {
  let dir: string;
  let ctl: RunningController;
  const agents: TestAgent[] = [];
  const rest = (method: string, path: string, body?: unknown) => adminRest(ctl, method, path, body);
  const connect = async () => {
    const a = await TestAgent.connect(ctl.url, ctl.agentToken);
    agents.push(a);
    return a;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-hub-fw-'));
    ctl = await startController({ listen: '127.0.0.1:0', dataDir: dir, logLevel: 'silent' });
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close()));
    await ctl?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the policy reaches the host of a selected endpoint; a label change elsewhere is an address-set-only delta', async () => {
    expect((await rest('POST', '/api/v1/networks', { metadata: { name: 'n' }, spec: { subnet: '10.0.0.0/24' } })).status).toBe(201);
    expect((await rest('POST', '/api/v1/firewallpolicies', POLICY)).status).toBe(201);
    const a = await connect();
    a.send(hello('h1', '192.0.2.1', [rep('db1.eth0', '10.0.0.5', { app: 'db' })]));
    const { plan } = await a.next('plan');
    expect(plan.firewallPolicies.map((p) => p.name)).toEqual(['db']);
    expect(plan.addressSets).toEqual([
      { name: 'applies:db', addresses: ['10.0.0.5'] },
      { name: 'peer:*:app=web', addresses: [] },
    ]);

    const b = await connect();
    b.send(hello('h2', '192.0.2.2', [rep('web2.eth0', '10.0.0.70', { app: 'api' })]));
    expect((await b.next('plan')).plan.firewallPolicies).toEqual([]);
    // h2's endpoint is not app=web yet: h1 hears of it for forwarding only.
    const d1 = (await a.next('delta')).delta;
    expect(d1.upsertAddressSets).toEqual([]);
    expect(d1.upsertFirewallPolicies).toEqual([]);

    // The agent relabels its endpoint (it reports it up again): h1 gets the new set content, and nothing else.
    b.send({ type: 'endpointUp', endpoint: rep('web2.eth0', '10.0.0.70', { app: 'web' }) });
    const d2 = (await a.next('delta')).delta;
    expect(d2).toEqual({ ...emptyPlanDelta(), upsertAddressSets: [{ name: 'peer:*:app=web', addresses: ['10.0.0.70'] }] });
  });

  test('status reports make the policy Ready with summed counters; firewallLog entries become events on it', async () => {
    await rest('POST', '/api/v1/networks', { metadata: { name: 'n' }, spec: { subnet: '10.0.0.0/24' } });
    await rest('POST', '/api/v1/firewallpolicies', POLICY);
    const a = await connect();
    a.send(hello('h1', '192.0.2.1', [rep('db1.eth0', '10.0.0.5', { app: 'db' })]));
    const { plan } = await a.next('plan');

    let got = await rest('GET', '/api/v1/firewallpolicies/db');
    expect(got.body.status.conditions[0]).toMatchObject({ status: 'False', reason: 'HostsNotReady' });
    const counters = [{ direction: 'ingress', rule: 'from-web', packets: 7, bytes: 700 }];
    a.send({ type: 'status', appliedRevision: plan.revision, networks: { n: { ready: true } }, firewall: { db: { generation: 1, ready: true, endpoints: 1, counters } }, spoofDrops: { ip: 2 } });
    await sleep(50);
    got = await rest('GET', '/api/v1/firewallpolicies/db');
    expect(got.body.status).toMatchObject({
      endpoints: 1, hosts: { h1: { ready: true, revision: plan.revision, endpoints: 1 } }, counters, observedGeneration: 1, conditions: [{ status: 'True', reason: 'Ready' }],
    });

    a.send({
      type: 'firewallLog',
      entries: [{ time: new Date().toISOString(), policy: 'db', direction: 'ingress', rule: 'from-web', action: 'allow', protocol: 'tcp', src: '10.0.0.70', dst: '10.0.0.5', sport: 41000, dport: 5432 }],
    });
    await sleep(50);
    const events = await rest('GET', '/api/v1/events?kind=FirewallPolicy&name=db');
    expect(events.body.items.map((e: JsonBody) => [e.reason, e.message])).toContainEqual(['Logged', 'ingress rule from-web: tcp 10.0.0.70:41000 -> 10.0.0.5:5432 (h1)']);

    // A malformed status is refused and changes nothing.
    a.send({ type: 'status', appliedRevision: plan.revision, networks: {}, firewall: { db: { generation: 1 } } });
    expect(await a.next('error')).toMatchObject({ code: 'Invalid' });
  });
});
