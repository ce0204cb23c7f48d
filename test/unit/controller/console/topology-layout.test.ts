import { layoutTopology, type PlacedNode, type TopologyInput } from '../../../../controller/console/topology-layout.js';

/** 10 hosts, 20 networks, 500 endpoints spread unevenly (some cells crowded), 2 firewalls and 2 routers (one beside a firewall). */
function bigInput(): TopologyInput {
  const hosts = Array.from({ length: 10 }, (_, i) => `h${i + 1}`);
  const networks = Array.from({ length: 20 }, (_, i) => `net${String(i + 1).padStart(2, '0')}`);
  const endpoints = Array.from({ length: 500 }, (_, i) => ({
    name: `ep${String(i + 1).padStart(3, '0')}`,
    // Host h1 gets a third of them: cells of many lines.
    host: i % 3 === 0 ? 'h1' : (hosts[i % 10] as string),
    network: networks[(i * 7) % 20] as string,
  }));
  const functions = [
    { kind: 'firewall' as const, name: 'edge', host: 'h1', networks: ['net01', 'net02'] },
    { kind: 'firewall' as const, name: 'inner', host: 'h4', networks: ['net03', 'net04'] },
    { kind: 'router' as const, name: 'core', host: 'h1', networks: ['net02', 'net05'] },
    { kind: 'router' as const, name: 'out', host: 'h7', networks: ['net06'] },
  ];
  return { hosts, networks, endpoints, functions };
}

const visible = (nodes: PlacedNode[]) => nodes.filter((n) => n.kind !== 'host');

function overlaps(a: PlacedNode, b: PlacedNode): boolean {
  return Math.abs(a.x - b.x) * 2 < a.width + b.width && Math.abs(a.y - b.y) * 2 < a.height + b.height;
}

function positions(nodes: PlacedNode[]): Map<string, string> {
  return new Map(nodes.map((n) => [n.id, `${n.x},${n.y},${n.width},${n.height}`]));
}

describe('topology layout', () => {
  test('places every host, network, endpoint, firewall and router of 10/20/500/2/2 once', () => {
    const layout = layoutTopology(bigInput());
    const count = (kind: string) => layout.nodes.filter((n) => n.kind === kind).length;
    expect([count('host'), count('network'), count('endpoint'), count('firewall'), count('router')]).toEqual([10, 20, 500, 2, 2]);
    expect(new Set(layout.nodes.map((n) => n.id)).size).toBe(layout.nodes.length);
  });

  test('no two nodes overlap, and host columns are disjoint', () => {
    const layout = layoutTopology(bigInput());
    // Sort by x and compare only neighbours within reach: 532 nodes, all pairs would do too but slower.
    const nodes = visible(layout.nodes).sort((a, b) => a.x - b.x);
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length && (nodes[j] as PlacedNode).x - (nodes[i] as PlacedNode).x < 200; j++) {
        const a = nodes[i] as PlacedNode;
        const b = nodes[j] as PlacedNode;
        if (overlaps(a, b)) throw new Error(`${a.id} overlaps ${b.id}`);
      }
    }
    const hosts = layout.nodes.filter((n) => n.kind === 'host').sort((a, b) => a.x - b.x);
    for (let i = 1; i < hosts.length; i++) {
      const left = hosts[i - 1] as PlacedNode;
      const right = hosts[i] as PlacedNode;
      expect(left.x + left.width / 2).toBeLessThan(right.x - right.width / 2);
    }
  });

  test('every endpoint lies inside its host column, level with its network row; functions in their column above the rows', () => {
    const input = bigInput();
    const layout = layoutTopology(input);
    const byId = new Map(layout.nodes.map((n) => [n.id, n]));
    const networks = layout.nodes.filter((n) => n.kind === 'network').sort((a, b) => a.y - b.y);
    for (const e of input.endpoints) {
      const node = byId.get(`Endpoint/${e.name}`) as PlacedNode;
      const host = byId.get(`Host/${e.host}`) as PlacedNode;
      expect(Math.abs(node.x - host.x) + node.width / 2).toBeLessThanOrEqual(host.width / 2);
      expect(Math.abs(node.y - host.y) + node.height / 2).toBeLessThanOrEqual(host.height / 2);
      // Its network is the last network row starting above it.
      const row = networks.filter((n) => n.y <= node.y + 0.001).pop();
      expect(row?.name).toBe(e.network);
    }
    for (const f of input.functions) {
      const node = byId.get(`${f.kind === 'firewall' ? 'Firewall' : 'Router'}/${f.name}`) as PlacedNode;
      const host = byId.get(`Host/${f.host}`) as PlacedNode;
      expect(Math.abs(node.x - host.x) + node.width / 2).toBeLessThanOrEqual(host.width / 2);
      expect(node.y).toBeLessThan((networks[0] as PlacedNode).y);
    }
  });

  test('is deterministic: the same objects in another order give the same places', () => {
    const input = bigInput();
    const shuffled: TopologyInput = {
      hosts: [...input.hosts].reverse(),
      networks: [...input.networks].reverse(),
      endpoints: [...input.endpoints].reverse(),
      functions: [...input.functions].reverse(),
    };
    expect(positions(layoutTopology(shuffled).nodes)).toEqual(positions(layoutTopology(input).nodes));
  });

  test.each([
    ['to a crowded cell', 'h1', 'net01'],
    ['to an empty cell', 'h2', 'net02'],
    ['on a host the console does not know yet', 'h99', 'net05'],
    ['on a network the console does not know yet', 'h3', 'zz-new'],
  ])('one endpoint added %s moves nothing else', (_label, host, network) => {
    const input = bigInput();
    const before = layoutTopology(input);
    const after = layoutTopology({ ...input, endpoints: [...input.endpoints, { name: 'ep000-new', host, network }] }, before.memory);
    const moved = [...positions(before.nodes)].filter(([id, p]) => positions(after.nodes).get(id) !== p && !id.startsWith('Host/'));
    expect(moved).toEqual([]);
    expect(after.nodes.some((n) => n.id === 'Endpoint/ep000-new')).toBe(true);
  });

  test('endpoints added one by one keep their places while the layout remembers', () => {
    const input = bigInput();
    let layout = layoutTopology(input);
    const first = positions(layout.nodes).get('Endpoint/ep001');
    for (let i = 0; i < 40; i++) {
      input.endpoints.push({ name: `late-${i}`, host: 'h1', network: 'net01' });
      layout = layoutTopology(input, layout.memory);
    }
    expect(positions(layout.nodes).get('Endpoint/ep001')).toBe(first);
    const nodes = visible(layout.nodes);
    const crowded = nodes.filter((n) => n.kind === 'endpoint' && n.host === 'h1');
    for (let i = 0; i < crowded.length; i++) {
      for (let j = i + 1; j < crowded.length; j++) expect(overlaps(crowded[i] as PlacedNode, crowded[j] as PlacedNode)).toBe(false);
    }
  });

  test('a removed endpoint leaves its neighbours where they were', () => {
    const input = bigInput();
    const before = layoutTopology(input);
    const after = layoutTopology({ ...input, endpoints: input.endpoints.filter((e) => e.name !== 'ep001') }, before.memory);
    const now = positions(after.nodes);
    for (const [id, p] of positions(before.nodes)) if (id !== 'Endpoint/ep001') expect(now.get(id)).toBe(p);
  });

  test('an empty network is still drawn, as a row of its own', () => {
    const layout = layoutTopology({ hosts: [], networks: ['lonely'], endpoints: [], functions: [] });
    expect(layout.nodes.map((n) => n.id)).toEqual(['Network/lonely']);
  });
});
