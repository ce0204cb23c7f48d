// weft describe and weft wait against an in-process controller.
import { renderDescribe } from '../../../cli/describe-view.js';
import type { Network } from '../../../model/kinds.js';
import { eventsHarness } from '../controller/support/events-harness.js';

type H = Awaited<ReturnType<typeof eventsHarness>>;

const net = (name: string, spec: Record<string, unknown>, labels?: Record<string, string>) => ({
  apiVersion: 'weft.dev/v1',
  kind: 'Network',
  metadata: labels ? { name, labels } : { name },
  spec,
});

describe('weft describe', () => {
  let h: H;
  beforeEach(async () => {
    h = await eventsHarness();
  });
  afterEach(async () => h.close());

  test('shows metadata, generations, spec, conditions, hosts and events', async () => {
    h.resources.createNetwork(net('blue', { subnet: '10.20.0.0/24' }, { team: 'web' }));
    h.tracker.check();
    h.attach('h1', 'blue');
    h.tracker.check();
    const r = await h.weft('describe', 'net', 'blue');
    expect(r).toMatchObject({ code: 0, err: '' });
    const out = r.out;
    expect(out).toMatch(/^Name: +blue$/m);
    expect(out).toMatch(/^Kind: +Network$/m);
    expect(out).toMatch(/^Labels: +team=web$/m);
    expect(out).toMatch(/^Resource version: +\d+$/m);
    expect(out).toMatch(/^Generation: +1$/m);
    // h1 carries the network but has not reported it ready: generation 1 is not realised yet
    expect(out).toMatch(/^Observed generation: +<none>$/m);
    expect(out).toMatch(/^Data plane caught up: +no: the controller has not observed generation 1 yet$/m);
    expect(out).toMatch(/^Spec:\n {2}subnet: 10\.20\.0\.0\/24$/m);
    expect(out).toMatch(/^Status:\n(?: {2}.*\n)*? {2}vni: \d+$/m);
    expect(out).toMatch(/^Conditions:\n {2}TYPE +STATUS +REASON +LAST-TRANSITION +MESSAGE\n {2}Ready +False +HostsNotReady +/m);
    expect(out).toMatch(/^Hosts:\n {2}HOST +READY +APPLIED-REVISION +CURRENT +MESSAGE\n {2}h1 +False +\d+ +(yes|no) +waiting for the agent to report this network$/m);
    expect(out).toMatch(/^Events:\n {2}TYPE +REASON +AGE +MESSAGE\n {2}Normal +Created +\d+s +network created \(generation 1\)\n {2}Warning +HostsNotReady +\d+s +not ready on "h1"/m);
  });

  test('an unknown name ends with status 1 and says which resource is missing', async () => {
    const r = await h.weft('describe', 'network', 'nope');
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: network "nope" does not exist\n');
    expect(r.out).toBe('');
  });

  test('an unknown kind is a usage error', async () => {
    expect((await h.weft('describe', 'widget', 'x')).code).toBe(2);
  });

  test('renders caught-up hosts, repeated events and empty sections', () => {
    const now = Date.parse('2026-01-10T12:00:00Z');
    const n: Network = {
      apiVersion: 'weft.dev/v1',
      kind: 'Network',
      metadata: { name: 'red', resourceVersion: '7', generation: 2, creationTimestamp: '2026-01-10T11:00:00Z' },
      spec: { subnet: '10.1.0.0/24' },
      status: { vni: 4096, observedGeneration: 2, hosts: { h2: { ready: true, revision: 9 }, h1: { ready: true, revision: 7 } }, conditions: [] },
    };
    const out = renderDescribe('Network', n, [
      { time: '2026-01-10T11:59:00Z', firstTime: '2026-01-10T11:50:00Z', type: 'Warning', reason: 'HostsNotReady', message: 'm', involved: { kind: 'Network', name: 'red' }, count: 3 },
    ], now);
    expect(out).toContain('Labels:               <none>\n');
    expect(out).toContain('Data plane caught up: yes: 2 hosts applied revision 7 or later and are ready\n');
    expect(out).toContain('Conditions:           <none>\n');
    expect(out).toMatch(/^ {2}h1 +True +7 +yes +<none>\n {2}h2 +True +9 +yes +<none>$/m);
    expect(out).toMatch(/^ {2}Warning +HostsNotReady +60s \(x3 over 10m\) +m$/m);
    expect(renderDescribe('Network', { ...n, status: { observedGeneration: 2 } }, [], now)).toContain('Events:               <none>\n');
  });
});

describe('weft wait', () => {
  let h: H;
  beforeEach(async () => {
    h = await eventsHarness();
  });
  afterEach(async () => h.close());

  test('returns once the condition becomes true', async () => {
    h.resources.createNetwork(net('blue', { subnet: '10.20.0.0/24' }));
    h.attach('h1', 'blue');
    const ready = setTimeout(() => h.live.status('h1', Date.now(), h.store.revision(), { blue: { ready: true } }), 400);
    try {
      const r = await h.weft('wait', 'network/blue', '--for=condition=Ready', '--timeout=20s');
      expect(r).toEqual({ code: 0, out: 'network/blue condition met\n', err: '' });
    } finally {
      clearTimeout(ready);
    }
  });

  test('times out with status 1 and says why the condition is not met', async () => {
    h.resources.createNetwork(net('blue', { subnet: '10.20.0.0/24' }));
    h.attach('h1', 'blue');
    const r = await h.weft('wait', 'network/blue', '--for', 'condition=Ready', '--timeout', '300ms');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe('error: timed out waiting for the condition on network/blue (Ready is False: HostsNotReady: not ready on "h1" (waiting for the agent to report this network))\n');
  });

  test('KIND NAME form, several names, and an explicit status', async () => {
    h.resources.createNetwork(net('a', { subnet: '10.1.0.0/24' }));
    h.resources.createNetwork(net('b', { subnet: '10.2.0.0/24' }));
    const r = await h.weft('wait', 'networks', 'a', 'b', '--for=condition=ready=true', '--timeout=5s');
    expect(r).toMatchObject({ code: 0, out: 'network/a condition met\nnetwork/b condition met\n' });
    const f = await h.weft('wait', 'net/a', '--for=condition=Ready=False', '--timeout=200ms');
    expect(f.code).toBe(1);
    expect(f.err).toMatch(/^error: timed out waiting for the condition on network\/a \(Ready is True: NoEndpoints: /);
  });

  test('--for=delete waits until the resource is gone', async () => {
    h.resources.createNetwork(net('blue', { subnet: '10.20.0.0/24' }));
    const del = setTimeout(() => h.resources.deleteNetwork('blue'), 300);
    try {
      const r = await h.weft('wait', 'network/blue', '--for=delete', '--timeout=20s');
      expect(r).toMatchObject({ code: 0, out: 'network/blue condition met\n' });
    } finally {
      clearTimeout(del);
    }
  });

  test('a missing resource is an error at once, not a wait', async () => {
    const r = await h.weft('wait', 'network/nope', '--for=condition=Ready', '--timeout=20s');
    expect(r).toMatchObject({ code: 1, err: 'error: network "nope" does not exist\n' });
  });

  test.each([
    [['wait', 'network/blue']],
    [['wait', 'network/blue', '--for=jsonpath={.x}']],
    [['wait', 'network/blue', '--for=condition=Ready=Maybe']],
    [['wait', 'network/blue', '--for=condition=']],
    [['wait', 'network/blue', '--for=delete', '--timeout=30']],
    [['wait', 'network', '--for=delete']],
    [['wait', 'network/blue/x', '--for=delete']],
    [['wait', 'widget/blue', '--for=delete']],
  ])('usage errors end with status 2: weft %j', async (argv) => {
    const r = await h.weft(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: /);
  });
});
