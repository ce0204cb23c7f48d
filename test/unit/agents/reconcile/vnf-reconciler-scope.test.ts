// When a plan change is an incremental pass of the VNF reconciler alone (a
// change inside existing VNFs reaches the kernel without a whole pass) and
// when it takes a full pass (a VNF comes, goes or changes interfaces).
import { VnfReconciler } from '../../../../agents/reconcile/vnf-reconciler.js';
import type { VnfHost } from '../../../../agents/vnf/vnf-host.js';
import type { PlanRouterSpec } from '../../../../model/router.js';
import type { PlanVnf } from '../../../../model/vnf-protocol.js';
import { emptyDelta } from '../support/harness.js';
import { plan } from '../vnf/vnf-host.test.js';

const iface = (network: string, ip: string) => ({ network, ip, prefixLength: 24, mac: '0a:77:00:00:00:01', mtu: 1450, hostIfname: `wf-${network}`, ifname: network });
const router = (portForwards: PlanRouterSpec['portForwards'], interfaces = [iface('a', '10.1.0.254')]): PlanVnf<PlanRouterSpec> => ({
  kind: 'Router',
  name: 'edge',
  generation: 1,
  netns: 'wn.h1.router.edge',
  interfaces,
  spec: { subnets: ['10.1.0.0/24'], routes: [], portForwards },
});

describe('VNF reconciler scope', () => {
  const scopeOf = (previous: PlanVnf[], delta: Partial<ReturnType<typeof emptyDelta>>) =>
    new VnfReconciler({} as VnfHost).scope({ kind: 'delta', previous: plan(...previous), delta: { ...emptyDelta(), ...delta } });

  test('a change inside an existing VNF (a port forward) is an incremental pass of the VNFs alone', () => {
    const forward = { protocol: 'tcp' as const, port: 8080, toIp: '10.1.0.7', toPort: 80 };
    const scope = scopeOf([router([])], { upsertVnfs: [router([forward])] });
    expect(scope).toEqual(new Set(['vnfs']));
  });

  test('a VNF that comes, goes or changes interfaces takes a full pass; no VNF change, none', () => {
    expect(scopeOf([], { upsertVnfs: [router([])] })).toBe('full');
    expect(scopeOf([router([])], { removeVnfs: [{ kind: 'Router', name: 'edge' }] })).toBe('full');
    expect(scopeOf([router([])], { upsertVnfs: [router([], [iface('a', '10.1.0.254'), iface('b', '10.2.0.254')])] })).toBe('full');
    expect(scopeOf([router([])], {})).toBe('none');
    expect(new VnfReconciler({} as VnfHost).scope({ kind: 'replace' })).toBe('full');
  });
});
