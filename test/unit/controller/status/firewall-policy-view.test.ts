// StatusView keeps what a policy read takes from the store for one store
// revision (pollers read big policies over and over), and never serves it
// past a write.
import { harness } from '../support/harness.js';

type Harness = ReturnType<typeof harness>;

const doc = (port: number) => ({
  metadata: { name: 'web' },
  spec: { appliesTo: { selector: { app: 'web' } }, ingress: { defaultAction: 'deny', rules: [{ name: 'http', action: 'allow', protocol: 'tcp', ports: [port] }] } },
});

describe('FirewallPolicy views', () => {
  let h: Harness;
  afterEach(() => h.store.close());

  test('two reads at one revision share the stored policy; a write is seen by the next read, single or listed', () => {
    h = harness();
    h.resources.createFirewallPolicy(doc(80));
    const a = h.status.getFirewallPolicy('web');
    const b = h.status.getFirewallPolicy('web');
    expect(b.spec).toBe(a.spec);
    expect(h.status.listFirewallPolicies().items[0]?.spec).toEqual(a.spec);

    h.resources.updateFirewallPolicy('web', doc(81));
    const c = h.status.getFirewallPolicy('web');
    expect(c.metadata.generation).toBe(2);
    expect(c.spec.ingress?.rules?.[0]?.ports).toEqual([81]);
    expect(h.status.listFirewallPolicies().items.map((p) => p.metadata.generation)).toEqual([2]);

    h.resources.deleteFirewallPolicy('web');
    expect(() => h.status.getFirewallPolicy('web')).toThrow(/does not exist/);
    expect(h.status.listFirewallPolicies().items).toEqual([]);
  });

  test('a policy that does not exist yet is found once created', () => {
    h = harness();
    expect(() => h.status.getFirewallPolicy('web')).toThrow(/does not exist/);
    h.resources.createFirewallPolicy(doc(80));
    expect(h.status.getFirewallPolicy('web').metadata.generation).toBe(1);
  });
});
