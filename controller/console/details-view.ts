// The side panel with one object: health, labels, spec, status, its Ready
// condition and the others, and per host which revision that host has
// realised (status.hosts), so a user sees a change converge host by host.
// Re-rendered from the store on every change while open.
import type { WeftEvent } from '../../model/events.js';
import { DEFAULT_FIREWALL_ACTION } from '../../model/firewall-vnf.js';
import type { AnyResource, Endpoint, Firewall, FirewallPolicy, Host, Router } from '../../model/kinds.js';
import { stringify } from 'yaml';
import { ago, h, replaceChildren } from './dom.js';
import { HEALTH_GLYPH, HEALTH_WORD, healthOf } from './health.js';
import { hostEntry } from './filters.js';
import { compareNames } from './names.js';
import type { StateStore } from './state-store.js';

export interface DetailsViewOptions {
  store: StateStore;
  events: () => WeftEvent[];
  onEdit: (o: AnyResource) => void;
  onSelect: (key: string) => void;
  onClose: () => void;
}

type Row = [string, string | number | undefined | Node];

export class DetailsView {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private key: string | undefined;
  /** The object as last seen, to show something after it is deleted. */
  private last: AnyResource | undefined;
  /** What the panel was last drawn from (see render). */
  private shown = '';

  constructor(private readonly opts: DetailsViewOptions) {
    this.body = h('div', { class: 'details-body' });
    this.element = h('aside', { class: 'panel details', 'aria-labelledby': 'details-title', 'data-testid': 'details', hidden: true }, this.body);
  }

  get openKey(): string | undefined {
    return this.key;
  }

  open(key: string): void {
    this.key = key;
    this.last = undefined;
    this.element.hidden = false;
    this.render(true);
    const title = this.element.querySelector<HTMLElement>('#details-title');
    title?.focus();
  }

  close(): void {
    this.key = undefined;
    this.last = undefined;
    this.element.hidden = true;
  }

  /**
   * Redraw when what the panel shows changed (the object, its endpoints,
   * its events), not on every change of the store: a redraw takes the
   * keyboard focus away, so it is put back on the same control after.
   */
  render(force = false): void {
    if (this.key === undefined) return;
    const current = this.opts.store.getByKey(this.key);
    const o = current ?? this.last;
    const signature = this.signature(current);
    if (!force && signature === this.shown) return;
    this.shown = signature;
    const active = document.activeElement;
    const focusKey = active instanceof HTMLElement && this.element.contains(active) ? (active.id || active.dataset.testid || active.dataset.key) : undefined;
    this.draw(current, o);
    if (focusKey === undefined) return;
    const again = [...this.element.querySelectorAll<HTMLElement>('[id], [data-testid], [data-key]')].find((el) => (el.id || el.dataset.testid || el.dataset.key) === focusKey);
    again?.focus();
  }

  private signature(current: AnyResource | undefined): string {
    if (!current) return 'gone';
    const store = this.opts.store;
    const name = current.metadata.name;
    const related = current.kind === 'Network' || current.kind === 'Host'
      ? store
          .list('Endpoint')
          .filter((e) => (current.kind === 'Network' ? e.spec.network : e.spec.host) === name)
          .map((e) => `${e.metadata.name}:${e.status?.ip ?? e.spec.ip ?? ''}:${healthOf(e).health}`)
          .join(',')
      : current.kind === 'Endpoint' ? JSON.stringify(store.get('Host', current.spec.host)?.status?.state) : '';
    const events = this.opts.events().filter((e) => e.involved.kind === current.kind && e.involved.name === name);
    return `${JSON.stringify(current)}|${related}|${events.length}:${events[0]?.time ?? ''}`;
  }

  private draw(current: AnyResource | undefined, o: AnyResource | undefined): void {
    if (this.key === undefined) return;
    const [kind, ...rest] = this.key.split('/');
    const name = rest.join('/');
    const header = h(
      'div',
      { class: 'panel-header' },
      h('h2', { id: 'details-title', tabindex: '-1' }, `${kind} ${name}`),
      h('button', { type: 'button', class: 'close', 'aria-label': 'Close details', title: 'Close (Escape)', 'data-testid': 'details-close', onclick: () => this.opts.onClose() }, '×'),
    );
    if (!o) {
      replaceChildren(this.body, header, h('p', {}, `The console holds no ${kind} named ${name}: it may not be declared yet.`));
      return;
    }
    this.last = o;
    const health = healthOf(o);
    const parts: (Node | false)[] = [
      header,
      h('p', { class: `badge badge-${health.health}` }, `${HEALTH_GLYPH[health.health]} ${HEALTH_WORD[health.health]} — ${health.text}`),
      !current && h('p', { class: 'notice', role: 'status' }, `This ${o.kind} was deleted; what it was is shown below.`),
      h(
        'div',
        { class: 'panel-actions' },
        h('button', { type: 'button', 'data-testid': 'details-edit', disabled: !current, onclick: () => this.opts.onEdit(o) }, 'Edit YAML'),
      ),
      section('Labels', labelList(o.metadata.labels)),
      section('Summary', table(summaryRows(o, this.opts.store, (key) => this.opts.onSelect(key)))),
      section('Generation', generationText(o)),
      section('Conditions', conditionsTable(o)),
      realisation(o, this.opts.store),
      countersSection(o),
      related(o, this.opts.store, (key) => this.opts.onSelect(key)),
      section('Spec', h('pre', { class: 'yaml' }, stringify(o.spec, { lineWidth: 0 }))),
      section('Events', eventsList(this.opts.events().filter((e) => e.involved.kind === o.kind && e.involved.name === o.metadata.name))),
    ];
    replaceChildren(this.body, ...parts);
  }
}

function section(title: string, content: Node | string, testid?: string): HTMLElement {
  return h('section', { class: 'details-section', 'data-testid': testid }, h('h3', {}, title), content);
}

function table(rows: Row[]): HTMLElement {
  return h(
    'table',
    { class: 'kv' },
    h('tbody', {}, ...rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v as Node | string)))),
  );
}

function labelList(labels: Record<string, string> | undefined): Node | string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return 'none';
  return h('ul', { class: 'labels' }, ...entries.map(([k, v]) => h('li', {}, h('code', {}, `${k}=${v}`))));
}

function link(key: string, text: string, onSelect: (key: string) => void): HTMLElement {
  return h('button', { type: 'button', class: 'link', 'data-key': key, onclick: () => onSelect(key) }, text);
}

function summaryRows(o: AnyResource, store: StateStore, onSelect: (key: string) => void): Row[] {
  switch (o.kind) {
    case 'Network':
      return [
        ['Subnet', o.spec.subnet],
        ['Gateway', o.status?.gateway ?? o.spec.gateway],
        ['IPv6 subnet', o.spec.subnet6],
        ['VNI', o.status?.vni ?? o.spec.vni],
        ['MTU', o.status?.mtu ?? o.spec.mtu],
        ['Bridge', o.status?.bridge],
        ['Endpoints', o.status?.endpoints],
      ];
    case 'Endpoint':
      return [
        ['Network', link(`Network/${o.spec.network}`, o.spec.network, onSelect)],
        ['Host', link(`Host/${o.spec.host}`, o.spec.host, onSelect)],
        ['Address', o.status?.ip ?? o.spec.ip],
        ['IPv6 address', o.status?.ip6],
        ['MAC', o.status?.mac ?? o.spec.mac],
        ['Phase', o.status?.phase],
        ['Container', o.spec.containerId],
        ['Interface', o.spec.ifname],
        ['Host interface', o.status?.hostIfname],
      ];
    case 'Host':
      return [
        ['State', o.status?.state ?? 'no agent yet'],
        ['Underlay address', o.status?.address ?? o.spec.address],
        ['Applied plan revision', o.status?.appliedRevision],
        ['Last heartbeat', o.status?.lastHeartbeat ? `${ago(o.status.lastHeartbeat)} (${o.status.lastHeartbeat})` : undefined],
        ['Agent version', o.status?.agentVersion],
        ['Underlay MTU', o.status?.underlayMtu],
        ['Endpoints', o.status?.endpoints ?? store.list('Endpoint').filter((e) => e.spec.host === o.metadata.name).length],
        ['Address blocks', o.status?.blocks?.map((b) => `${b.network} ${b.cidr}`).join(', ')],
        ['Spoofing drops', o.status?.spoofDrops ? Object.entries(o.status.spoofDrops).map(([k, v]) => `${k} ${v}`).join(', ') : undefined],
      ];
    case 'FirewallPolicy':
      return [
        ['Applies to', appliesTo(o)],
        ['Priority', o.spec.priority],
        ['Ingress rules', o.spec.ingress ? `${o.spec.ingress.rules?.length ?? 0} (default ${o.spec.ingress.defaultAction ?? 'allow'})` : undefined],
        ['Egress rules', o.spec.egress ? `${o.spec.egress.rules?.length ?? 0} (default ${o.spec.egress.defaultAction ?? 'allow'})` : undefined],
        ['Endpoints selected', o.status?.endpoints],
      ];
    case 'Firewall':
      return [
        ['Host', link(`Host/${o.spec.host}`, o.spec.host, onSelect)],
        ['Networks', o.spec.networks.map((n) => n.network).join(', ')],
        ['Default action', o.spec.defaultAction ?? DEFAULT_FIREWALL_ACTION],
        ['Rules', o.spec.rules?.length ?? 0],
        ['Interfaces', o.status?.interfaces?.map((i) => `${i.network} ${i.ip} (${i.mac})`).join(', ')],
      ];
    case 'Router':
      return [
        ['Host', link(`Host/${o.spec.host}`, o.spec.host, onSelect)],
        ['Networks', o.spec.interfaces.map((n) => n.network).join(', ')],
        ['Way out', routerWayOut(o)],
        ['Static routes', o.spec.routes?.map((r) => `${r.to} via ${r.via}`).join(', ')],
        ['Port forwards', o.spec.portForwards?.map((f) => `${f.protocol}/${f.port} -> ${f.to.endpoint}:${f.to.port ?? f.port}`).join(', ')],
        ['Floating IPs', o.spec.floatingIPs?.map((f) => `${f.address} -> ${f.endpoint}`).join(', ')],
        ['Interfaces', o.status?.interfaces?.map((i) => `${i.network} ${i.ip} (${i.mac})`).join(', ')],
        ['NAT connections', o.status?.counters?.filter((c) => c.connections !== undefined).map((c) => `${c.rule} ${c.connections}`).join(', ')],
        ['Way out traffic', o.status?.counters?.filter((c) => c.packets !== undefined).map((c) => `${c.rule.replace('traffic ', '')} ${c.packets} packets, ${c.bytes ?? 0} bytes`).join('; ')],
        ['Forwarded now', forwardedNow(o.status?.connections)],
      ];
  }
}

/** "none", "mode host", or "mode interface on eth1: 203.0.113.10/24 via 203.0.113.1, snat". */
export function routerWayOut(r: Router): string {
  const e = r.spec.external;
  if (!e) return 'none';
  const mode = e.mode ?? 'host';
  if (mode === 'host') return 'mode host';
  return `mode interface on ${e.interface ?? '?'}: ${e.address ?? '?'} via ${e.gateway ?? '?'}, ${e.snat === false ? 'no snat (routed)' : 'snat'}`;
}

/** A router's live port-forward connections, in a line: the side panel has no room for a table of 50. */
function forwardedNow(c: NonNullable<Router['status']>['connections']): string | undefined {
  if (c === undefined) return undefined;
  if (c.total === 0) return 'none';
  const shown = c.items.slice(0, 5).map((x) => `${x.client} -> ${x.endpoint}${x.state ? ` (${x.state})` : ''}`);
  return `${c.total}: ${shown.join(', ')}${c.total > shown.length ? ', …' : ''}`;
}

export function appliesTo(p: FirewallPolicy): string {
  const a = p.spec.appliesTo;
  const parts: string[] = [];
  if (a?.network) parts.push(`network ${a.network}`);
  if (a?.selector) parts.push(Object.entries(a.selector).map(([k, v]) => `${k}=${v}`).join(','));
  return parts.length > 0 ? parts.join(', ') : 'every endpoint';
}

function generationText(o: AnyResource): string {
  const generation = o.metadata.generation;
  const observed = (o.status as { observedGeneration?: number } | undefined)?.observedGeneration;
  const rv = o.metadata.resourceVersion === undefined ? '' : `, resourceVersion ${o.metadata.resourceVersion}`;
  if (generation === undefined) return `not recorded${rv}`;
  if (observed === undefined) return `generation ${generation}${rv}`;
  const state = observed >= generation ? 'the controller has acted on the latest spec' : 'the controller has not acted on the latest spec yet';
  return `generation ${generation}, observed ${observed}: ${state}${rv}`;
}

/** One block per condition (a table is too wide for the side panel): status in words and glyph, reason, since when, message. */
function conditionsTable(o: AnyResource): Node | string {
  const conditions = (o.status as { conditions?: Array<{ type: string; status: string; reason: string; message: string; lastTransitionTime: string }> } | undefined)?.conditions ?? [];
  if (conditions.length === 0) return 'none reported';
  return h(
    'ul',
    { class: 'conditions' },
    ...conditions.map((c) =>
      h(
        'li',
        {},
        h('strong', {}, c.type),
        ' ',
        h('span', { class: `cond-${c.status}` }, `${c.status === 'True' ? '✓' : c.status === 'False' ? '✕' : '?'} ${c.status}`),
        ` — ${c.reason} `,
        h('span', { class: 'since', title: c.lastTransitionTime }, `(since ${ago(c.lastTransitionTime)})`),
        h('br', {}),
        c.message,
      ),
    ),
  );
}

type PerHost = Record<string, { ready: boolean; revision: number; message?: string; endpoints?: number }>;

/** status.hosts: per host, whether it has realised the object and at which plan revision; beside it, what the host itself reports. */
function realisation(o: AnyResource, store: StateStore): HTMLElement | false {
  if (o.kind === 'Endpoint' || o.kind === 'Host') return hostRealisation(o, store);
  const hosts = (o.status as { hosts?: PerHost } | undefined)?.hosts;
  const title = 'Realised on hosts';
  if (!hosts || Object.keys(hosts).length === 0) return section(title, 'no host carries it yet', 'realisation');
  const entries = Object.entries(hosts).sort(([a], [b]) => compareNames(a, b));
  const ready = entries.filter(([, v]) => v.ready).length;
  return section(
    title,
    h(
      'div',
      {},
      h('p', {}, `${ready} of ${entries.length} host${entries.length === 1 ? '' : 's'} ready`),
      h(
        'table',
        { class: 'grid' },
        h('thead', {}, h('tr', {}, ...['Host', 'Ready', 'Revision', 'Host applied', 'Message'].map((t) => h('th', { scope: 'col' }, t)))),
        h(
          'tbody',
          {},
          ...entries.map(([host, v]) => {
            const applied = store.get('Host', host)?.status?.appliedRevision;
            return h(
              'tr',
              {},
              h('td', {}, host),
              h('td', { class: v.ready ? 'cond-True' : 'cond-False' }, v.ready ? '✓ yes' : '✕ not yet'),
              h('td', {}, String(v.revision)),
              h('td', {}, applied === undefined ? '' : String(applied)),
              h('td', {}, v.message ?? (v.endpoints !== undefined ? `${v.endpoints} endpoints` : '')),
            );
          }),
        ),
      ),
    ),
    'realisation',
  );
}

/** An endpoint is realised by its one host; a host realises plan revisions. */
function hostRealisation(o: Endpoint | Host, store: StateStore): HTMLElement {
  if (o.kind === 'Host') {
    const carried = store.list('Network').filter((n) => hostEntry(n.status?.hosts, o.metadata.name) !== undefined);
    if (carried.length === 0) return section('Networks carried', 'none', 'realisation');
    return section(
      'Networks carried',
      h(
        'table',
        { class: 'grid' },
        h('thead', {}, h('tr', {}, ...['Network', 'Ready', 'Revision'].map((t) => h('th', { scope: 'col' }, t)))),
        h(
          'tbody',
          {},
          ...carried.map((n) => {
            const v = hostEntry(n.status?.hosts, o.metadata.name);
            return h('tr', {}, h('td', {}, n.metadata.name), h('td', { class: v?.ready ? 'cond-True' : 'cond-False' }, v?.ready ? '✓ yes' : '✕ not yet'), h('td', {}, String(v?.revision ?? '')));
          }),
        ),
      ),
      'realisation',
    );
  }
  const host = store.get('Host', o.spec.host);
  return section('Realised on host', `${o.spec.host}: ${o.status?.phase ?? 'not attached yet'}${host?.status?.state ? ` (host ${host.status.state})` : ''}`, 'realisation');
}

function countersSection(o: AnyResource): HTMLElement | false {
  if (o.kind !== 'FirewallPolicy' && o.kind !== 'Firewall') return false;
  const counters = (o as FirewallPolicy | Firewall).status?.counters as Array<{ direction?: string; rule: string; packets: number; bytes: number }> | undefined;
  if (!counters || counters.length === 0) return section('Rule counters', 'none yet');
  return section(
    'Rule counters',
    h(
      'table',
      { class: 'grid' },
      h('thead', {}, h('tr', {}, ...['Rule', 'Packets', 'Bytes'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, ...counters.map((c) => h('tr', {}, h('td', {}, c.direction ? `${c.direction} ${c.rule}` : c.rule), h('td', {}, String(c.packets)), h('td', {}, String(c.bytes))))),
    ),
  );
}

function related(o: AnyResource, store: StateStore, onSelect: (key: string) => void): HTMLElement | false {
  let eps: Endpoint[] = [];
  if (o.kind === 'Network') eps = store.list('Endpoint').filter((e) => e.spec.network === o.metadata.name);
  else if (o.kind === 'Host') eps = store.list('Endpoint').filter((e) => e.spec.host === o.metadata.name);
  else return false;
  if (eps.length === 0) return section('Endpoints', 'none');
  const shown = eps.slice(0, 100);
  return section(
    `Endpoints (${eps.length})`,
    h(
      'ul',
      { class: 'related' },
      ...shown.map((e) => h('li', {}, link(`Endpoint/${e.metadata.name}`, `${e.metadata.name} ${e.status?.ip ?? e.spec.ip ?? ''}`.trim(), onSelect), ` ${HEALTH_GLYPH[healthOf(e).health]}`)),
      eps.length > shown.length ? h('li', {}, `… and ${eps.length - shown.length} more (see Lists)`) : false,
    ),
  );
}

function eventsList(events: WeftEvent[]): Node | string {
  if (events.length === 0) return 'none recent';
  return h('ul', { class: 'event-list' }, ...events.slice(0, 20).map((e) => h('li', { class: `event-${e.type}` }, `${ago(e.time)} ${e.type} ${e.reason}: ${e.message}${e.count > 1 ? ` (×${e.count})` : ''}`)));
}

