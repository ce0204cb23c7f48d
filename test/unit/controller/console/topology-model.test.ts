import type { AnyResource, Endpoint, Host, Network, Router } from '../../../../model/kinds.js';
import type { WeftEvent } from '../../../../model/events.js';
import { EventFeed, MAX_EVENTS } from '../../../../controller/console/event-feed.js';
import { healthOf } from '../../../../controller/console/health.js';
import { StateStore } from '../../../../controller/console/state-store.js';
import { buildTopology, drawnLabel, shortName, type GraphNode } from '../../../../controller/console/topology-model.js';

const ready = (status: 'True' | 'False' | 'Unknown', reason = 'R') => ({ conditions: [{ type: 'Ready', status, reason, message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z' }] });

const host = (name: string, state?: 'Ready' | 'NotReady' | 'Gone'): Host => ({ apiVersion: 'weft.dev/v1', kind: 'Host', metadata: { name }, spec: {}, ...(state ? { status: { state } } : {}) });
const network: Network = { apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name: 'web' }, spec: { subnet: '10.1.0.0/24' }, status: { vni: 4096, ...ready('True') } };
const endpoint = (name: string, onHost: string, s: 'True' | 'False'): Endpoint => ({
  apiVersion: 'weft.dev/v1',
  kind: 'Endpoint',
  metadata: { name },
  spec: { network: 'web', host: onHost, containerId: name, ifname: 'eth0' },
  status: { ip: `10.1.0.${name.length}`, ...ready(s, 'NotAttached') },
});

describe('topology model: routers', () => {
  const router = (name: string, networks: string[], external: boolean): Router => ({
    apiVersion: 'weft.dev/v1',
    kind: 'Router',
    metadata: { name },
    spec: { host: 'h1', interfaces: networks.map((n) => ({ network: n })), ...(external ? { external: { mode: 'host' as const } } : {}) },
    status: ready('True'),
  });
  const store = new StateStore();
  store.replaceAll(store.beginSnapshot(), [host('h1', 'Ready'), network, router('edge', ['web', 'red'], true), router('link', ['web'], false)] as AnyResource[]);
  const model = buildTopology(store);
  const node = (id: string) => model.nodes.find((n) => n.id === id);

  test('a router is drawn in its host column, says when it has a way out, and connects to each of its networks', () => {
    expect(node('Router/edge')).toMatchObject({ kind: 'Router', label: 'edge\n↗ outside', shortLabel: 'edge', health: 'ok' });
    expect(node('Router/link')?.label).toBe('link');
    const h1 = node('Host/h1')!;
    const edge = node('Router/edge')!;
    expect(Math.abs(edge.x - h1.x) + edge.width / 2).toBeLessThanOrEqual(h1.width / 2);
    expect(model.edges.filter((e) => e.kind === 'connects').map((e) => `${e.source}->${e.target}`).sort()).toEqual([
      'Router/edge->Network/red',
      'Router/edge->Network/web',
      'Router/link->Network/web',
    ]);
  });

  test('a network only a router names is drawn as not declared', () => {
    expect(node('Network/red')).toMatchObject({ label: 'red\n(not declared)', missing: true });
  });
});

describe('topology model', () => {
  const store = new StateStore();
  store.replaceAll(store.beginSnapshot(), [host('h1', 'Ready'), host('h2', 'NotReady'), network, endpoint('a', 'h1', 'True'), endpoint('bb', 'h2', 'False'), endpoint('ccc', 'h9', 'True')] as AnyResource[]);
  const model = buildTopology(store);
  const node = (id: string) => model.nodes.find((n) => n.id === id);

  test('hosts show whether their agent is connected; a host only endpoints name is drawn as not registered', () => {
    expect([node('Host/h1')?.health, node('Host/h2')?.health, node('Host/h9')?.health]).toEqual(['ok', 'bad', 'unknown']);
    expect(node('Host/h9')).toMatchObject({ label: 'h9 (not registered)', missing: true });
  });

  test("a network shows its subnet and VNI; an endpoint its name and address, inside its host's box", () => {
    expect(node('Network/web')?.label).toBe('web\n10.1.0.0/24 · VNI 4096');
    expect(node('Endpoint/bb')).toMatchObject({ label: 'bb\n10.1.0.2', health: 'bad' });
    const inside = (n: GraphNode | undefined, box: GraphNode | undefined) =>
      n !== undefined && box !== undefined && Math.abs(n.x - box.x) + n.width / 2 <= box.width / 2 && Math.abs(n.y - box.y) + n.height / 2 <= box.height / 2;
    expect(inside(node('Endpoint/bb'), node('Host/h2'))).toBe(true);
    expect(inside(node('Endpoint/bb'), node('Host/h1'))).toBe(false);
  });

  test('a long endpoint name is cut short under its node', () => {
    expect(shortName('3f5a9c0e1b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a.eth0')).toBe('3f5a9c0e1b2d4f6…');
    expect(shortName('db2.eth0')).toBe('db2.eth0');
  });

  test('every endpoint has an edge from its network', () => {
    expect(model.edges.map((e) => `${e.source}->${e.target}`).sort()).toEqual(['Network/web->Endpoint/a', 'Network/web->Endpoint/bb', 'Network/web->Endpoint/ccc']);
  });

  test('health is also drawn as a glyph, except on healthy endpoints', () => {
    expect(drawnLabel(node('Endpoint/a')!)).toBe('a\n10.1.0.1');
    expect(drawnLabel(node('Endpoint/bb')!)).toBe('✕ bb\n10.1.0.2');
    expect(drawnLabel(node('Network/web')!, true)).toBe('✓ web');
  });

  test('conditions read as health: True ok, False bad with its reason, none unknown', () => {
    expect(healthOf(endpoint('x', 'h1', 'False'))).toEqual({ health: 'bad', text: 'Not ready: NotAttached' });
    expect(healthOf({ ...network, status: {} }).health).toBe('unknown');
    expect(healthOf(host('h3', 'Gone')).health).toBe('bad');
  });
});

describe('event feed', () => {
  const event = (n: number, count = 1, time = `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`): WeftEvent => ({
    time,
    firstTime: `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`,
    type: n % 2 === 0 ? 'Normal' : 'Warning',
    reason: 'Created',
    message: `thing ${n}`,
    involved: { kind: 'Network', name: `n${n}` },
    count,
  });

  test('newest first; an event sent again after a reconnect is not shown twice', () => {
    const feed = new EventFeed();
    feed.add(event(1));
    feed.add(event(2));
    expect(feed.add(event(1))).toBe(false);
    expect(feed.list().map((e) => e.message)).toEqual(['thing 2', 'thing 1']);
  });

  test('a repeat of an event updates its count and time in place', () => {
    const feed = new EventFeed();
    feed.add(event(1));
    feed.add(event(2));
    expect(feed.add(event(1, 3, '2026-01-01T00:00:09Z'))).toBe(true);
    expect(feed.list().map((e) => `${e.message}x${e.count}`)).toEqual(['thing 1x3', 'thing 2x1']);
  });

  test('keeps at most MAX_EVENTS, dropping the oldest', () => {
    const feed = new EventFeed();
    for (let i = 0; i < MAX_EVENTS + 5; i++) feed.add({ ...event(1), firstTime: `t${i}`, time: `2026-01-02T00:00:00.${String(i).padStart(3, '0')}Z` });
    const kept = feed.list().map((e) => e.firstTime);
    expect(kept).toHaveLength(MAX_EVENTS);
    for (let i = 0; i < 5; i++) expect(kept).not.toContain(`t${i}`);
    expect(kept).toContain(`t${MAX_EVENTS + 4}`);
    expect(kept).toContain('t5');
  });
});
