// status.observedGeneration says which generation of a network the data
// plane has realised: the current one only once every host that carries it
// has applied what it was sent and reports the network ready.
import { eventsHarness } from '../support/events-harness.js';

type Harness = Awaited<ReturnType<typeof eventsHarness>>;

describe('network status.observedGeneration', () => {
  let h: Harness;
  afterEach(async () => h.close());

  const observed = async () => (await h.get('/api/v1/networks/blue')).body.status?.observedGeneration as number | undefined;

  test('is the generation when no host carries the network (nothing to realise)', async () => {
    h = await eventsHarness();
    h.resources.createNetwork({ kind: 'Network', metadata: { name: 'blue' }, spec: { subnet: '10.20.0.0/24' } });
    expect(await observed()).toBe(1);
  });

  test('follows the carrying host: unknown until it reports ready, then kept while it catches up with the next generation', async () => {
    h = await eventsHarness();
    h.resources.createNetwork({ kind: 'Network', metadata: { name: 'blue' }, spec: { subnet: '10.20.0.0/24' } });
    h.attach('h1', 'blue');
    expect(await observed()).toBeUndefined(); // h1 has not reported the network yet
    h.live.status('h1', Date.now(), h.store.revision(), { blue: { ready: true } });
    expect(await observed()).toBe(1);

    const current = (await h.get('/api/v1/networks/blue')).body;
    h.resources.updateNetwork('blue', { kind: 'Network', metadata: { name: 'blue', resourceVersion: current.metadata.resourceVersion }, spec: { subnet: '10.20.0.0/24', mtu: 1400 } });
    h.live.sent('h1', h.store.revision()); // the new plan is on its way, not applied yet
    expect((await h.get('/api/v1/networks/blue')).body.metadata.generation).toBe(2);
    expect(await observed()).toBe(1);
    h.live.status('h1', Date.now(), h.store.revision(), { blue: { ready: true } });
    expect(await observed()).toBe(2);
  });
});
