// Columns of `weft get` per kind. Status values win over spec values: the
// status says what the controller allocated (gateway, VNI, MTU, address).
import type { Kind } from '../model/kind-names.js';
import type { AnyResource, Endpoint, Firewall, FirewallPolicy, Host, Network, Router } from '../model/kinds.js';
import { DEFAULT_FIREWALL_ACTION, DEFAULT_POLICY_PRIORITY } from '../model/resource-defaults.js';
import { cell, formatAge, renderTable } from './table.js';

export const COLUMNS: Record<Kind, { normal: string[]; wide: string[] }> = {
  Network: { normal: ['NAME', 'SUBNET', 'GATEWAY', 'VNI', 'MTU', 'ENDPOINTS', 'AGE'], wide: ['SUBNET6', 'BRIDGE', 'HOSTS', 'LABELS'] },
  Endpoint: { normal: ['NAME', 'NETWORK', 'HOST', 'IP', 'IP6', 'MAC', 'CONTAINER'], wide: ['IFNAME', 'HOST-IFNAME', 'PHASE', 'AGE'] },
  Host: { normal: ['NAME', 'STATE', 'ADDRESS', 'REVISION', 'LAST-HEARTBEAT'], wide: ['ENDPOINTS', 'BLOCKS', 'VERSION', 'AGE'] },
  FirewallPolicy: { normal: ['NAME', 'PRIORITY', 'APPLIES-TO', 'INGRESS', 'EGRESS', 'ENDPOINTS', 'AGE'], wide: ['HOSTS', 'LABELS'] },
  Firewall: { normal: ['NAME', 'HOST', 'NETWORKS', 'RULES', 'DEFAULT', 'READY', 'AGE'], wide: ['ADDRESSES', 'LABELS'] },
  Router: { normal: ['NAME', 'HOST', 'NETWORKS', 'EXTERNAL', 'ROUTES', 'FORWARDS', 'FLOATING', 'READY', 'AGE'], wide: ['ADDRESSES', 'FLOATING-IPS', 'LABELS'] },
};

function labels(r: AnyResource): string {
  const l = r.metadata.labels ?? {};
  const text = Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return cell(text);
}

function networkRow(n: Network, wide: boolean, now: number): string[] {
  const s = n.status ?? {};
  const row = [n.metadata.name, n.spec.subnet, cell(s.gateway ?? n.spec.gateway), cell(s.vni ?? n.spec.vni), cell(s.mtu ?? n.spec.mtu), String(s.endpoints ?? 0), formatAge(n.metadata.creationTimestamp, now)];
  if (wide) {
    const hosts = Object.entries(s.hosts ?? {});
    const ready = hosts.filter(([, h]) => h.ready).length;
    row.push(cell(n.spec.subnet6), cell(s.bridge), hosts.length === 0 ? '0' : `${ready}/${hosts.length}`, labels(n));
  }
  return row;
}

function endpointRow(e: Endpoint, wide: boolean, now: number): string[] {
  const s = e.status ?? {};
  const row = [e.metadata.name, e.spec.network, e.spec.host, cell(s.ip ?? e.spec.ip), cell(s.ip6), cell(s.mac ?? e.spec.mac), e.spec.containerId];
  if (wide) row.push(e.spec.ifname, cell(s.hostIfname), cell(s.phase), formatAge(e.metadata.creationTimestamp, now));
  return row;
}

function hostRow(h: Host, wide: boolean, now: number): string[] {
  const s = h.status ?? {};
  const heartbeat = s.lastHeartbeat === undefined ? '<never>' : `${formatAge(s.lastHeartbeat, now)} ago`;
  const row = [h.metadata.name, cell(s.state ?? 'Unknown'), cell(s.address ?? h.spec.address), cell(s.appliedRevision), heartbeat];
  if (wide) row.push(String(s.endpoints ?? 0), cell((s.blocks ?? []).map((b) => `${b.network}:${b.cidr}`).join(',')), cell(s.agentVersion), formatAge(h.metadata.creationTimestamp, now));
  return row;
}

/** Which endpoints a policy protects: "network:NAME" and/or its selector's k=v pairs; <all> when it names neither. */
export function appliesToSummary(p: FirewallPolicy): string {
  const a = p.spec.appliesTo ?? {};
  const parts: string[] = [];
  if (a.network !== undefined) parts.push(`network:${a.network}`);
  for (const [k, v] of Object.entries(a.selector ?? {})) parts.push(`${k}=${v}`);
  return parts.length === 0 ? '<all>' : parts.join(',');
}

/** A direction's rule count, then its default action when the policy sets one: "3/deny" (no spaces: columns stay awk-able). */
function directionSummary(d: { defaultAction?: string; rules?: unknown[] } | undefined): string {
  const count = String(d?.rules?.length ?? 0);
  return d?.defaultAction === undefined ? count : `${count}/${d.defaultAction}`;
}

function firewallPolicyRow(p: FirewallPolicy, wide: boolean, now: number): string[] {
  const s = p.status ?? {};
  const row = [p.metadata.name, cell(p.spec.priority ?? DEFAULT_POLICY_PRIORITY), appliesToSummary(p), directionSummary(p.spec.ingress), directionSummary(p.spec.egress), cell(s.endpoints), formatAge(p.metadata.creationTimestamp, now)];
  if (wide) {
    const hosts = Object.values(s.hosts ?? {});
    row.push(hosts.length === 0 ? '0' : `${hosts.filter((h) => h.ready).length}/${hosts.length}`, labels(p));
  }
  return row;
}

function firewallRow(f: Firewall, wide: boolean, now: number): string[] {
  const s = f.status ?? {};
  const ready = s.ready === undefined ? '<unknown>' : s.ready ? 'True' : 'False';
  const row = [f.metadata.name, f.spec.host, f.spec.networks.map((n) => n.network).join(','), String(f.spec.rules?.length ?? 0), f.spec.defaultAction ?? DEFAULT_FIREWALL_ACTION, ready, formatAge(f.metadata.creationTimestamp, now)];
  if (wide) row.push(cell((s.interfaces ?? []).map((i) => `${i.network}:${i.ip}`).join(',')), labels(f));
  return row;
}

/** A router's way out in one cell: `host`, `interface:ADDRESS@IFNAME` (with `,nosnat` when it routes only), `<none>`. */
export function routerExternalSummary(r: Router): string {
  const e = r.spec.external;
  if (e === undefined) return '<none>';
  if ((e.mode ?? 'host') === 'host') return 'host';
  return `interface:${e.address ?? '?'}@${e.interface ?? '?'}${e.snat === false ? ',nosnat' : ''}`;
}

function routerRow(r: Router, wide: boolean, now: number): string[] {
  const s = r.status ?? {};
  const ready = s.ready === undefined ? '<unknown>' : s.ready ? 'True' : 'False';
  const row = [r.metadata.name, r.spec.host, r.spec.interfaces.map((n) => n.network).join(','), routerExternalSummary(r), String(r.spec.routes?.length ?? 0), String(r.spec.portForwards?.length ?? 0), String(r.spec.floatingIPs?.length ?? 0), ready, formatAge(r.metadata.creationTimestamp, now)];
  if (wide) {
    row.push(
      cell((s.interfaces ?? []).map((i) => `${i.network}:${i.ip}`).join(',')),
      cell((r.spec.floatingIPs ?? []).map((f) => `${f.address}=${f.endpoint}`).join(',')),
      labels(r),
    );
  }
  return row;
}

/** By the kind asked for, not the item's own field: list items may leave `kind` out. */
function resourceRow(kind: Kind, r: AnyResource, wide: boolean, now: number): string[] {
  switch (kind) {
    case 'Network':
      return networkRow(r as Network, wide, now);
    case 'Endpoint':
      return endpointRow(r as Endpoint, wide, now);
    case 'Host':
      return hostRow(r as Host, wide, now);
    case 'FirewallPolicy':
      return firewallPolicyRow(r as FirewallPolicy, wide, now);
    case 'Firewall':
      return firewallRow(r as Firewall, wide, now);
    case 'Router':
      return routerRow(r as Router, wide, now);
  }
}

export function renderResourceTable(kind: Kind, items: AnyResource[], wide = false, now = Date.now()): string {
  const headers = wide ? [...COLUMNS[kind].normal, ...COLUMNS[kind].wide] : COLUMNS[kind].normal;
  return renderTable(
    headers,
    items.map((r) => resourceRow(kind, r, wide, now)),
  );
}

/** Label selector of `-l k=v` flags: every pair must match (AND). */
export function matchesLabels(r: AnyResource, selector: Record<string, string>): boolean {
  const l = r.metadata.labels ?? {};
  return Object.entries(selector).every(([k, v]) => l[k] === v);
}
