// Which ports get no IPv6 (policies judge IPv4 only): those of endpoints a
// policy applies to, and while the policies in force are unknown (before
// the first table, or after nft refused one) every dual-stack port, so a
// failed table never opens IPv6 to an endpoint a policy protects.
import { PolicyReconciler } from '../../../../agents/reconcile/policy-reconciler.js';
import type { PolicyEnforcer } from '../../../../agents/firewall/policy-enforcer.js';
import type { SpoofGuard } from '../../../../agents/firewall/spoof-guard.js';
import type { EndpointRecord } from '../../../../agents/state/endpoint-store.js';
import type { HostPlan } from '../../../../model/agent-protocol.js';

const record = (hostIfname: string, ip: string, ip6?: string) => ({ hostIfname, ip, ...(ip6 === undefined ? {} : { ip6 }) }) as EndpointRecord;
const RECORDS = [record('wv-a', '10.1.0.5', 'fd00:1::5'), record('wv-b', '10.1.0.6', 'fd00:1::6'), record('wv-c', '10.2.0.7')];
const PLAN = { host: 'h1', revision: 1 } as HostPlan;

function setup(policed: Set<string> | undefined) {
  const noIp6: string[][] = [];
  const policies = { enabled: true, sync: async () => {}, ingressAddresses: () => new Set<string>(), policedAddresses: () => policed, setGuardProblem: () => {} } as unknown as PolicyEnforcer;
  const guard = { enabled: true, problem: undefined, sync: async (_p: Iterable<string>, n?: Iterable<string>) => void noIp6.push([...(n ?? [])]) } as unknown as SpoofGuard;
  return { reconciler: new PolicyReconciler({ error: () => {} }, { list: () => RECORDS }, policies, guard), noIp6 };
}

test('no IPv6 for the ports of endpoints a policy applies to', async () => {
  const { reconciler, noIp6 } = setup(new Set(['10.1.0.5']));
  await reconciler.sync(PLAN);
  expect(noIp6).toEqual([['wv-a']]);
});

test('while the policies in force are unknown, no IPv6 for any dual-stack port', async () => {
  const { reconciler, noIp6 } = setup(undefined);
  await reconciler.sync(PLAN);
  expect(noIp6).toEqual([['wv-a', 'wv-b']]);
});
