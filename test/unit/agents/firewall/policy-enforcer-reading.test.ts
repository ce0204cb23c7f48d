// A counter reading (thousands of counters: seconds on a busy host) does not
// hold up a policy change, and a reading a change overtook does not count.
import type { HostPlan, PlanFirewallPolicy } from '../../../../model/agent-protocol.js';
import { elementCounterKey, type ElementCounter, type PolicyModel } from '../../../../agents/datapath/policy-model.js';
import { PolicyEnforcer } from '../../../../agents/firewall/policy-enforcer.js';
import type { PolicyTable } from '../../../../agents/datapath/policy-table-port.js';
import { testPlan } from '../support/harness.js';

/** A table whose counter listing waits until released. */
class SlowReadTable implements PolicyTable {
  calls: string[] = [];
  packets = 5;
  private release: (() => void) | undefined;

  async replace(): Promise<void> {
    this.calls.push('replace');
  }

  async update(): Promise<void> {
    this.calls.push('update');
  }

  async counters(model: PolicyModel): Promise<ElementCounter[]> {
    this.calls.push('counters');
    const packets = this.packets;
    await new Promise<void>((resolve) => (this.release = resolve));
    const out: ElementCounter[] = [];
    for (const [name, elements] of model.maps) for (const e of elements.values()) out.push({ key: elementCounterKey(name, e.box), ref: e.ref, packets, bytes: packets * 100 });
    return out;
  }

  finishReading(): void {
    this.release?.();
  }

  async exists(): Promise<boolean> {
    return true;
  }

  async bridgeFilterProblem(): Promise<string | undefined> {
    return undefined;
  }
}

const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as never;

const plan = (port: number): HostPlan => {
  const policy: PlanFirewallPolicy = {
    name: 'web', priority: 1, generation: port, appliesTo: 'applies:web',
    ingress: { rules: [{ name: 'http', action: 'allow', protocol: 'tcp', ports: [[port, port]], peers: [{ cidr: '198.18.0.0/24' }] }] },
  };
  return testPlan({ firewallPolicies: [policy], addressSets: [{ name: 'applies:web', addresses: ['100.64.0.5'] }] });
};

const tick = () => new Promise((r) => setImmediate(r));

test('a policy change is written while a counter reading is in progress; that reading is dropped, the next one counts', async () => {
  const table = new SlowReadTable();
  const e = new PolicyEnforcer(log, table);
  await e.sync(plan(80));
  const reading = e.refreshCounters();
  await tick();
  expect(table.calls).toEqual(['replace', 'counters']);

  await e.sync(plan(81)); // resolves with the reading still waiting
  expect(table.calls).toEqual(['replace', 'counters', 'update']);
  expect(e.reports(plan(81)).web?.generation).toBe(81);

  table.finishReading();
  expect(await reading).toBe(false);
  expect(e.reports(plan(81)).web?.counters).toEqual([]);

  const next = e.refreshCounters();
  await tick();
  table.finishReading();
  expect(await next).toBe(true);
  expect(e.reports(plan(81)).web?.counters).toEqual([{ direction: 'ingress', rule: 'http', packets: 5, bytes: 500 }]);
});

test('a reading waits for the changes queued before it, and two callers share one reading', async () => {
  const table = new SlowReadTable();
  const e = new PolicyEnforcer(log, table);
  const write = e.sync(plan(80));
  const a = e.refreshCounters();
  const b = e.refreshCounters();
  await write;
  await tick();
  expect(table.calls).toEqual(['replace', 'counters']);
  table.finishReading();
  expect(await a).toBe(true);
  expect(await b).toBe(true);
});
