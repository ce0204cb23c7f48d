// The lists page: one table per kind, filtered by label selector, network,
// host and name (filters.ts). A name opens the object's details.
import { DEFAULT_FIREWALL_ACTION } from '../../model/firewall-vnf.js';
import type { AnyResource, Kind } from '../../model/kinds.js';
import { ago, h, replaceChildren } from './dom.js';
import { appliesTo } from './details-view.js';
import { compileFilter, matchesFilter } from './filters.js';
import { HEALTH_GLYPH, healthOf } from './health.js';
import { compareNames } from './names.js';
import type { StateStore } from './state-store.js';

export interface ListsViewOptions {
  store: StateStore;
  onSelect: (key: string) => void;
}

type Cell = string | number | undefined;

interface Column<O> {
  title: string;
  value: (o: O) => Cell;
}

const TITLES: Record<Kind, string> = { Host: 'Hosts', Network: 'Networks', Endpoint: 'Endpoints', FirewallPolicy: 'Firewall policies', Firewall: 'Firewalls', Router: 'Routers' };
/** Hosts first: what the rest runs on. */
const ORDER: Kind[] = ['Host', 'Network', 'Endpoint', 'FirewallPolicy', 'Firewall', 'Router'];

function labelsText(o: AnyResource): string {
  return Object.entries(o.metadata.labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

function perHostReady(hosts: Record<string, { ready: boolean }> | undefined): string {
  const all = Object.values(hosts ?? {});
  return all.length === 0 ? '' : `${all.filter((x) => x.ready).length}/${all.length}`;
}

function health(o: AnyResource): string {
  const info = healthOf(o);
  return `${HEALTH_GLYPH[info.health]} ${info.text}`;
}

// Columns per kind; the name column (a button) and health come first in every table.
const COLUMNS: { [K in Kind]: Column<Extract<AnyResource, { kind: K }>>[] } = {
  Host: [
    { title: 'Address', value: (o) => o.status?.address ?? o.spec.address },
    { title: 'Applied revision', value: (o) => o.status?.appliedRevision },
    { title: 'Endpoints', value: (o) => o.status?.endpoints },
    { title: 'Last heartbeat', value: (o) => ago(o.status?.lastHeartbeat) },
    { title: 'Labels', value: labelsText },
  ],
  Network: [
    { title: 'Subnet', value: (o) => o.spec.subnet },
    { title: 'Gateway', value: (o) => o.status?.gateway ?? o.spec.gateway },
    { title: 'VNI', value: (o) => o.status?.vni ?? o.spec.vni },
    { title: 'MTU', value: (o) => o.status?.mtu ?? o.spec.mtu },
    { title: 'Endpoints', value: (o) => o.status?.endpoints },
    { title: 'Hosts ready', value: (o) => perHostReady(o.status?.hosts) },
    { title: 'Labels', value: labelsText },
  ],
  Endpoint: [
    { title: 'Network', value: (o) => o.spec.network },
    { title: 'Host', value: (o) => o.spec.host },
    { title: 'Address', value: (o) => o.status?.ip ?? o.spec.ip },
    { title: 'MAC', value: (o) => o.status?.mac ?? o.spec.mac },
    { title: 'Phase', value: (o) => o.status?.phase },
    { title: 'Labels', value: labelsText },
  ],
  FirewallPolicy: [
    { title: 'Applies to', value: appliesTo },
    { title: 'Priority', value: (o) => o.spec.priority },
    { title: 'Rules in/out', value: (o) => `${o.spec.ingress?.rules?.length ?? 0}/${o.spec.egress?.rules?.length ?? 0}` },
    { title: 'Endpoints', value: (o) => o.status?.endpoints },
    { title: 'Hosts ready', value: (o) => perHostReady(o.status?.hosts) },
    { title: 'Labels', value: labelsText },
  ],
  Firewall: [
    { title: 'Host', value: (o) => o.spec.host },
    { title: 'Networks', value: (o) => o.spec.networks.map((n) => n.network).join(', ') },
    { title: 'Default', value: (o) => o.spec.defaultAction ?? DEFAULT_FIREWALL_ACTION },
    { title: 'Rules', value: (o) => o.spec.rules?.length ?? 0 },
    { title: 'Hosts ready', value: (o) => perHostReady(o.status?.hosts) },
    { title: 'Labels', value: labelsText },
  ],
  Router: [
    { title: 'Host', value: (o) => o.spec.host },
    { title: 'Networks', value: (o) => o.spec.interfaces.map((n) => n.network).join(', ') },
    { title: 'Way out', value: (o) => (!o.spec.external ? '' : (o.spec.external.mode ?? 'host') === 'host' ? 'host' : `interface ${o.spec.external.address ?? ''}`) },
    { title: 'Port forwards', value: (o) => o.spec.portForwards?.length ?? 0 },
    { title: 'Floating IPs', value: (o) => o.spec.floatingIPs?.length ?? 0 },
    { title: 'Hosts ready', value: (o) => perHostReady(o.status?.hosts) },
    { title: 'Labels', value: labelsText },
  ],
};

export class ListsView {
  readonly element: HTMLElement;
  private readonly tables: HTMLElement;
  private readonly selectorInput: HTMLInputElement;
  private readonly networkSelect: HTMLSelectElement;
  private readonly hostSelect: HTMLSelectElement;
  private readonly textInput: HTMLInputElement;
  private readonly kindSelect: HTMLSelectElement;
  private readonly filterError: HTMLElement;
  private renderedVersion = -1;

  constructor(private readonly opts: ListsViewOptions) {
    const rerender = () => this.render(true);
    this.selectorInput = h('input', { id: 'filter-labels', type: 'text', placeholder: 'tier=web,team!=ops', autocomplete: 'off', 'data-testid': 'filter-labels', oninput: rerender });
    this.networkSelect = h('select', { id: 'filter-network', 'data-testid': 'filter-network', onchange: rerender });
    this.hostSelect = h('select', { id: 'filter-host', 'data-testid': 'filter-host', onchange: rerender });
    this.textInput = h('input', { id: 'filter-name', type: 'search', autocomplete: 'off', 'data-testid': 'filter-name', oninput: rerender });
    this.kindSelect = h(
      'select',
      { id: 'filter-kind', 'data-testid': 'filter-kind', onchange: rerender },
      h('option', { value: '' }, 'All kinds'),
      ...ORDER.map((k) => h('option', { value: k }, TITLES[k])),
    );
    this.filterError = h('p', { class: 'field-error', role: 'alert', id: 'filter-error' });
    this.tables = h('div', { class: 'tables' });
    const field = (label: string, id: string, control: HTMLElement) => h('div', { class: 'field' }, h('label', { for: id }, label), control);
    this.element = h(
      'section',
      { class: 'page lists-page', 'aria-labelledby': 'lists-title' },
      h('h2', { id: 'lists-title' }, 'Objects'),
      h(
        'form',
        { class: 'filters', role: 'search', 'aria-label': 'Filter the lists', onsubmit: (ev: Event) => ev.preventDefault() },
        field('Kind', 'filter-kind', this.kindSelect),
        field('Labels (k=v, k!=v, k)', 'filter-labels', this.selectorInput),
        field('Network', 'filter-network', this.networkSelect),
        field('Host', 'filter-host', this.hostSelect),
        field('Name contains', 'filter-name', this.textInput),
        this.filterError,
      ),
      this.tables,
    );
  }

  render(force = false): void {
    const store = this.opts.store;
    if (!force && this.renderedVersion === store.version) return;
    this.renderedVersion = store.version;
    fillOptions(this.networkSelect, 'Any network', store.list('Network').map((n) => n.metadata.name), endpointValues(store, 'network'));
    fillOptions(this.hostSelect, 'Any host', store.list('Host').map((n) => n.metadata.name), endpointValues(store, 'host'));
    const filter = compileFilter({ selector: this.selectorInput.value, network: this.networkSelect.value, host: this.hostSelect.value, text: this.textInput.value });
    this.filterError.textContent = filter.error ?? '';
    this.selectorInput.setAttribute('aria-invalid', filter.error ? 'true' : 'false');
    if (filter.error) this.selectorInput.setAttribute('aria-describedby', 'filter-error');
    else this.selectorInput.removeAttribute('aria-describedby');
    // Keep keyboard focus on the same row's button across a re-render.
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.key;
    const kinds = this.kindSelect.value === '' ? ORDER : ORDER.filter((k) => k === this.kindSelect.value);
    replaceChildren(this.tables, ...kinds.map((k) => this.table(k, store.list(k), filter)));
    if (focused) this.tables.querySelector<HTMLElement>(`[data-key="${CSS.escape(focused)}"]`)?.focus();
  }

  private table<K extends Kind>(kind: K, all: Extract<AnyResource, { kind: K }>[], filter: ReturnType<typeof compileFilter>): HTMLElement {
    const rows = all.filter((o) => matchesFilter(o, filter));
    const columns = COLUMNS[kind] as Column<Extract<AnyResource, { kind: K }>>[];
    const id = `list-${kind.toLowerCase()}`;
    return h(
      'section',
      { class: 'list', 'aria-labelledby': `${id}-title` },
      h('h3', { id: `${id}-title` }, `${TITLES[kind]} (${rows.length === all.length ? all.length : `${rows.length} of ${all.length}`})`),
      h(
        'div',
        { class: 'table-scroll', tabindex: '-1' },
        h(
          'table',
          { class: 'grid', 'data-testid': id, 'aria-labelledby': `${id}-title` },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Health'), ...columns.map((c) => h('th', { scope: 'col' }, c.title)))),
          h(
            'tbody',
            {},
            ...rows.map((o) => {
              const key = `${o.kind}/${o.metadata.name}`;
              return h(
                'tr',
                { 'data-name': o.metadata.name, class: `health-${healthOf(o).health}` },
                h('th', { scope: 'row' }, h('button', { type: 'button', class: 'link', 'data-key': key, onclick: () => this.opts.onSelect(key) }, o.metadata.name)),
                h('td', { class: 'health-cell' }, health(o)),
                ...columns.map((c) => h('td', {}, String(c.value(o) ?? ''))),
              );
            }),
            rows.length === 0 ? h('tr', {}, h('td', { colspan: String(columns.length + 2), class: 'empty' }, all.length === 0 ? 'none' : 'none match the filters')) : false,
          ),
        ),
      ),
    );
  }
}

/** Networks and hosts that endpoints name, known as objects or not. */
function endpointValues(store: StateStore, field: 'network' | 'host'): string[] {
  return store.list('Endpoint').map((e) => e.spec[field]);
}

function fillOptions(select: HTMLSelectElement, anyLabel: string, names: string[], extra: string[]): void {
  const all = [...new Set([...names, ...extra])].sort(compareNames);
  const current = select.value;
  const now = [...select.options].map((o) => o.value).join('\n');
  if (now === ['', ...all].join('\n')) return;
  replaceChildren(select, h('option', { value: '' }, anyLabel), ...all.map((n) => h('option', { value: n }, n)));
  select.value = all.includes(current) ? current : '';
}

