// The enforcer writes the whole table once, then diffs; keeps the table when
// a write fails; and a rule's count never goes backwards when the elements
// that held it are deleted.
import type { HostPlan, PlanFirewallPolicy } from '../../../../model/agent-protocol.js';
import { defaultCounterKey, elementCounterKey, type ElementCounter, type PolicyModel } from '../../../../agents/datapath/policy-model.js';
import { PolicyEnforcer } from '../../../../agents/firewall/policy-enforcer.js';
import type { PolicyTable } from '../../../../agents/datapath/policy-table-port.js';
import { testPlan } from '../support/harness.js';

class FakeTable implements PolicyTable {
  calls: string[] = [];
  fail = false;
  /** what the "kernel" counts, per element of the model in force */
  perElement = 5;
  held: PolicyModel | undefined;

  async replace(model: PolicyModel): Promise<void> {
    this.calls.push('replace');
    if (this.fail) throw new Error('nft said no');
    this.held = model;
  }

  async update(_from: PolicyModel, to: PolicyModel): Promise<void> {
    this.calls.push('update');
    if (this.fail) throw new Error('nft said no');
    this.held = to;
  }

  async counters(model: PolicyModel): Promise<ElementCounter[]> {
    const out: ElementCounter[] = [];
    for (const [name, elements] of model.maps) for (const e of elements.values()) out.push({ key: elementCounterKey(name, e.box), ref: e.ref, packets: this.perElement, bytes: this.perElement * 100 });
    for (const g of model.groups.values()) if (g.defaultPolicy) out.push({ key: defaultCounterKey(g.name), ref: { policy: g.defaultPolicy, direction: g.direction, rule: 'default' }, packets: 1, bytes: 60 });
    return out;
  }

  async exists(): Promise<boolean> {
    return this.held !== undefined;
  }

  async bridgeFilterProblem(): Promise<string | undefined> {
    return undefined;
  }
}

const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as never;

const policy: PlanFirewallPolicy = {
  name: 'web',
  priority: 1,
  generation: 2,
  appliesTo: 'applies:web',
  ingress: { defaultAction: 'deny', rules: [{ name: 'trusted', action: 'allow', protocol: 'tcp', ports: [[80, 80]], peers: [{ set: 'peer:trusted' }] }] },
};

const plan = (trusted: string[]): HostPlan =>
  testPlan({
    firewallPolicies: [policy],
    addressSets: [
      { name: 'applies:web', addresses: ['100.64.0.5'] },
      { name: 'peer:trusted', addresses: trusted },
    ],
  });

const counterOf = (e: PolicyEnforcer, p: HostPlan, rule: string) => e.reports(p).web?.counters.find((c) => c.rule === rule)?.packets;

describe('PolicyEnforcer', () => {
  test('the first write replaces the table, later ones diff; the report says what is enforced', async () => {
    const table = new FakeTable();
    const e = new PolicyEnforcer(log, table);
    await e.sync(plan(['100.64.0.7']));
    await e.sync(plan(['100.64.0.7', '100.64.0.9']));
    expect(table.calls).toEqual(['replace', 'update']);
    expect(e.reports(plan([])).web).toMatchObject({ generation: 2, ready: true, endpoints: 1 });
  });

  test('a failed write keeps the table, reports not ready, and replaces whole next time', async () => {
    const table = new FakeTable();
    const e = new PolicyEnforcer(log, table);
    await e.sync(plan(['100.64.0.7']));
    table.fail = true;
    await e.sync(plan(['100.64.0.8']));
    expect(e.reports(plan([])).web).toMatchObject({ ready: false });
    expect(e.reports(plan([])).web?.message).toMatch(/nft said no/);
    table.fail = false;
    await e.sync(plan(['100.64.0.8']));
    expect(table.calls).toEqual(['replace', 'update', 'replace']);
    expect(e.reports(plan([])).web?.ready).toBe(true);
  });

  test("a peer leaving the set does not take the rule's count with it", async () => {
    const table = new FakeTable();
    const e = new PolicyEnforcer(log, table);
    const withPeer = plan(['100.64.0.7']);
    await e.sync(withPeer);
    await e.refreshCounters();
    expect(counterOf(e, withPeer, 'trusted')).toBe(5);
    const without = plan([]);
    await e.sync(without);
    await e.refreshCounters();
    expect(counterOf(e, without, 'trusted')).toBe(5);
    // the group chain was refilled: the 1 read before is carried, and the fake counts 1 again
    expect(counterOf(e, without, 'default')).toBe(2);
  });
});
