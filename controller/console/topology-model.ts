// What the topology view draws, from the objects the console holds: every
// node with its label, health and place (topology-layout.ts), and the edges
// (an endpoint to its network, a firewall to the networks it guards, a
// router to the networks it connects). Pure:
// the view only hands this to cytoscape.
import type { AnyResource, Endpoint, Kind } from '../../model/kinds.js';
import { HEALTH_GLYPH, healthOf, type Health } from './health.js';
import { ids, layoutTopology, type LayoutMemory } from './topology-layout.js';

export interface GraphNode {
  id: string;
  kind: Extract<Kind, 'Host' | 'Network' | 'Endpoint' | 'Firewall' | 'Router'>;
  name: string;
  /** What is drawn beside the node, without the health glyph. */
  label: string;
  /** The label when zoomed out (one line). */
  shortLabel: string;
  health: Health;
  healthText: string;
  /** Objects named by others but not (yet) known to the console: a host no agent reported, a network not declared. */
  missing?: boolean;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  kind: 'member' | 'guards' | 'connects';
}

/** The store's read side (state-store.ts), or a fixture. */
export interface TopologySource {
  list<K extends Kind>(kind: K): Extract<AnyResource, { kind: K }>[];
}

export interface TopologyModel {
  nodes: GraphNode[];
  edges: GraphEdge[];
  memory: LayoutMemory;
  bounds: { x1: number; y1: number; x2: number; y2: number };
}

/**
 * The text drawn on a node: health glyph, then its label (short: zoomed
 * out). A healthy endpoint goes without the glyph: hundreds of ✓ would
 * drown the few ✕ that matter (its solid border still says it).
 */
export function drawnLabel(n: Pick<GraphNode, 'kind' | 'label' | 'shortLabel' | 'health'>, short = false): string {
  const text = short ? n.shortLabel : n.label;
  return n.kind === 'Endpoint' && n.health === 'ok' ? text : `${HEALTH_GLYPH[n.health]} ${text}`;
}

function endpointAddress(e: Endpoint): string {
  return e.status?.ip ?? e.spec.ip ?? 'no address yet';
}

/** Runtime container IDs make names of 70 characters: the start names it well enough under a node (details show it whole). */
export function shortName(name: string, max = 16): string {
  return name.length > max ? `${name.slice(0, max - 1)}…` : name;
}

export function buildTopology(source: TopologySource, memory?: LayoutMemory): TopologyModel {
  const hosts = source.list('Host');
  const networks = source.list('Network');
  const endpoints = source.list('Endpoint');
  const firewalls = source.list('Firewall');
  const routers = source.list('Router');
  const layout = layoutTopology(
    {
      hosts: hosts.map((h) => h.metadata.name),
      networks: networks.map((n) => n.metadata.name),
      endpoints: endpoints.map((e) => ({ name: e.metadata.name, host: e.spec.host, network: e.spec.network })),
      functions: [
        ...firewalls.map((f) => ({ kind: 'firewall' as const, name: f.metadata.name, host: f.spec.host, networks: f.spec.networks.map((n) => n.network) })),
        ...routers.map((r) => ({ kind: 'router' as const, name: r.metadata.name, host: r.spec.host, networks: r.spec.interfaces.map((i) => i.network) })),
      ],
    },
    memory,
  );
  const hostBy = new Map(hosts.map((h) => [h.metadata.name, h]));
  const networkBy = new Map(networks.map((n) => [n.metadata.name, n]));
  const endpointBy = new Map(endpoints.map((e) => [e.metadata.name, e]));
  const firewallBy = new Map(firewalls.map((f) => [f.metadata.name, f]));
  const routerBy = new Map(routers.map((r) => [r.metadata.name, r]));

  const nodes: GraphNode[] = [];
  for (const p of layout.nodes) {
    const place = { x: p.x, y: p.y, width: p.width, height: p.height };
    switch (p.kind) {
      case 'host': {
        const h = hostBy.get(p.name);
        const health = h ? healthOf(h) : { health: 'unknown' as const, text: 'Not registered: endpoints name this host, the controller has no Host for it' };
        const label = h ? p.name : `${p.name} (not registered)`;
        nodes.push({ id: p.id, kind: 'Host', name: p.name, label, shortLabel: label, health: health.health, healthText: health.text, ...place, ...(h ? {} : { missing: true }) });
        break;
      }
      case 'network': {
        const n = networkBy.get(p.name);
        const health = n ? healthOf(n) : { health: 'unknown' as const, text: 'Not declared' };
        const vni = n?.status?.vni ?? n?.spec.vni;
        const label = n ? `${p.name}\n${n.spec.subnet} · VNI ${vni ?? '–'}` : `${p.name}\n(not declared)`;
        nodes.push({ id: p.id, kind: 'Network', name: p.name, label, shortLabel: p.name, health: health.health, healthText: health.text, ...place, ...(n ? {} : { missing: true }) });
        break;
      }
      case 'endpoint': {
        const e = endpointBy.get(p.name);
        if (!e) break;
        const health = healthOf(e);
        const label = `${shortName(p.name)}\n${endpointAddress(e)}`;
        nodes.push({ id: p.id, kind: 'Endpoint', name: p.name, label, shortLabel: label, health: health.health, healthText: health.text, ...place });
        break;
      }
      case 'firewall': {
        const f = firewallBy.get(p.name);
        if (!f) break;
        const health = healthOf(f);
        nodes.push({ id: p.id, kind: 'Firewall', name: p.name, label: p.name, shortLabel: p.name, health: health.health, healthText: health.text, ...place });
        break;
      }
      case 'router': {
        const r = routerBy.get(p.name);
        if (!r) break;
        const health = healthOf(r);
        // The way out is what sets a router apart from a plain link between networks: say it under the name.
        const label = r.spec.external ? `${p.name}\n↗ outside` : p.name;
        nodes.push({ id: p.id, kind: 'Router', name: p.name, label, shortLabel: p.name, health: health.health, healthText: health.text, ...place });
        break;
      }
    }
  }

  const edges: GraphEdge[] = [];
  for (const e of endpoints) {
    // From the network: drawn as a line along its row, then down to the endpoint.
    edges.push({ id: `member/${e.metadata.name}`, source: ids.network(e.spec.network), target: ids.endpoint(e.metadata.name), kind: 'member' });
  }
  for (const f of firewalls) {
    for (const n of new Set(f.spec.networks.map((x) => x.network))) {
      edges.push({ id: `guards/${f.metadata.name}/${n}`, source: ids.firewall(f.metadata.name), target: ids.network(n), kind: 'guards' });
    }
  }
  for (const r of routers) {
    for (const n of new Set(r.spec.interfaces.map((x) => x.network))) {
      edges.push({ id: `connects/${r.metadata.name}/${n}`, source: ids.router(r.metadata.name), target: ids.network(n), kind: 'connects' });
    }
  }
  return { nodes, edges, memory: layout.memory, bounds: layout.bounds };
}
