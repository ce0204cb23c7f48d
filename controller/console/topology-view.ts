// The topology page: the graph of topology-model.ts drawn with cytoscape,
// updated in place (elements added, removed or changed; the viewport is
// left alone) so a change from the watch does not throw the user's zoom
// away. Click, or arrow keys + Enter, selects a node and opens its details.
import cytoscape, { type Core, type ElementDefinition, type NodeSingular, type StylesheetJson } from 'cytoscape';
import { HEALTH_GLYPH, HEALTH_WORD, type Health } from './health.js';
import { h } from './dom.js';
import type { StateStore } from './state-store.js';
import { buildTopology, drawnLabel, type GraphNode, type TopologyModel } from './topology-model.js';
import type { LayoutMemory } from './topology-layout.js';

export interface DrawnNode {
  id: string;
  kind: GraphNode['kind'];
  label: string;
  health: Health;
}

const COLOURS: Record<Health, { fill: string; line: string }> = {
  ok: { fill: '#dafbe1', line: '#1a7f37' },
  bad: { fill: '#ffebe9', line: '#cf222e' },
  unknown: { fill: '#eaeef2', line: '#57606a' },
};
const LINE_STYLE: Record<Health, 'solid' | 'dashed' | 'dotted'> = { ok: 'solid', bad: 'dashed', unknown: 'dotted' };
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/** Labels of hosts and networks keep about this size on screen at any zoom, so names stay readable with the whole network in view. */
const SCREEN_FONT_PX = 13;
/** Room on screen left of the layout for network labels (two lines or the name alone), above it for host names. */
const NETWORK_LABEL_PX = { long: 190, short: 90 };
const HOST_LABEL_PX = 24;
/** A first view zoomed out further than this shows nothing readable. */
const MIN_FIRST_ZOOM = 0.15;
/** Below this zoom a network shows its name only: its two-line label would not fit its row. */
const SHORT_LABEL_ZOOM = 0.6;
/** Endpoint labels (8 px) are drawn from this zoom on, where they are 7 px or more on screen. */
const ENDPOINT_LABEL_ZOOM = 0.875;
/**
 * Below this zoom the lines from networks to their endpoints are not drawn:
 * an endpoint sits in its network's row anyway, and hundreds of lines that
 * small are a smear that costs most of a frame to draw.
 */
const MEMBER_EDGE_ZOOM = 0.35;

function labelFont(zoom: number): number {
  return Math.min(48, Math.max(11, SCREEN_FONT_PX / zoom));
}

/**
 * Drawing order. A host is a plain box behind its column, not a compound
 * node: the layout places everything itself, and with 500 endpoints in
 * compounds cytoscape spent most of each frame on the compounds' bounds
 * and styles. So the order is set by hand: host boxes, then the edges
 * (over the boxes), then the nodes.
 */
const Z = { host: 0, edge: 1, nearEdge: 2, node: 3 };

function stylesheet(zoom = 1): StylesheetJson {
  const byHealth = (['ok', 'bad', 'unknown'] as const).map((health) => ({
    selector: `node.health-${health}`,
    style: { 'background-color': COLOURS[health].fill, 'border-color': COLOURS[health].line, 'border-style': LINE_STYLE[health] },
  }));
  const font = labelFont(zoom);
  return [
    {
      selector: 'node',
      style: {
        label: zoom < SHORT_LABEL_ZOOM ? 'data(short)' : 'data(text)',
        'font-family': FONT,
        color: '#1f2328',
        'text-wrap': 'wrap',
        'border-width': 2,
        'min-zoomed-font-size': 6,
        'z-index-compare': 'manual',
        'z-index': Z.node,
      },
    },
    ...byHealth,
    {
      selector: 'node.Host',
      style: {
        shape: 'round-rectangle',
        label: 'data(text)',
        'background-color': '#f6f8fa',
        width: 'data(width)',
        height: 'data(height)',
        'z-index': Z.host,
        'font-size': font,
        'font-weight': 'bold',
        'text-valign': 'top',
        'text-halign': 'center',
        'text-margin-y': -4,
        'text-max-width': '270px',
        'text-wrap': 'ellipsis',
        'text-events': 'yes',
        'border-width': 3,
      },
    },
    {
      selector: 'node.Network',
      style: {
        shape: 'round-rectangle',
        width: 'data(width)',
        height: 'data(height)',
        'font-size': font * 0.9,
        'text-valign': 'center',
        'text-halign': 'left',
        'text-justification': 'right',
        'text-margin-x': -8,
        'text-events': 'yes',
      },
    },
    {
      selector: 'node.Endpoint',
      style: {
        shape: 'ellipse',
        // Too small to read below this zoom: no label at all, so cytoscape does not lay out 500 of them for nothing.
        label: zoom >= ENDPOINT_LABEL_ZOOM ? 'data(text)' : '',
        width: 'data(width)',
        height: 'data(height)',
        'font-size': 8,
        'text-wrap': 'wrap',
        'text-max-width': '74px',
        'line-height': 1.1,
        'text-valign': 'bottom',
        'text-margin-y': 2,
        'min-zoomed-font-size': 7,
      },
    },
    {
      selector: 'node.Firewall',
      style: { shape: 'hexagon', label: 'data(text)', width: 'data(width)', height: 'data(height)', 'font-size': 9, 'text-valign': 'bottom', 'text-margin-y': 2 },
    },
    {
      selector: 'node.Router',
      style: { shape: 'diamond', label: 'data(text)', width: 'data(width)', height: 'data(height)', 'font-size': 9, 'text-wrap': 'wrap', 'text-valign': 'bottom', 'text-margin-y': 2 },
    },
    { selector: 'node.missing', style: { 'background-opacity': 0.4 } },
    {
      selector: 'edge',
      style: {
        width: 1.5,
        'line-color': '#8c959f',
        'curve-style': 'taxi',
        'taxi-direction': 'horizontal',
        'taxi-turn': '100%',
        'taxi-turn-min-distance': 0,
        'z-index-compare': 'manual',
        'z-index': Z.edge,
      },
    },
    ...(zoom < MEMBER_EDGE_ZOOM ? [{ selector: 'edge.member', style: { display: 'none' as const } }] : []),
    { selector: 'edge.guards', style: { 'line-color': '#9a6700', 'line-style': 'dashed', width: 2, 'taxi-direction': 'vertical' } },
    { selector: 'edge.connects', style: { 'line-color': '#1a7f37', 'line-style': 'dotted', width: 2, 'taxi-direction': 'vertical' } },
    { selector: 'edge.near', style: { 'line-color': '#0969da', width: 3, 'z-index': Z.nearEdge } },
    {
      selector: 'node:selected, node.kbd-focus',
      style: { 'overlay-color': '#0969da', 'overlay-opacity': 0.25, 'overlay-padding': 6, 'border-color': '#0969da', 'border-width': 4 },
    },
  ];
}

/** What drawing the topology has cost so far (for benchmarks: the console shares the machine in the lab). */
export interface DrawCost {
  /** Model builds and updates of the graph (render()), and the ms they took. */
  updates: number;
  updateMs: number;
  /** Frames cytoscape drew, and the ms they took. */
  frames: number;
  frameMs: number;
}

/** The cytoscape renderer's own frame counters (not in its typings). */
interface RendererCounters {
  redrawCount?: number;
  redrawTotalTime?: number;
}

export interface TopologyViewOptions {
  store: StateStore;
  onSelect: (key: string) => void;
}

export class TopologyView {
  readonly element: HTMLElement;
  private readonly container: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly announcer: HTMLElement;
  private cy: Core | undefined;
  private memory: LayoutMemory | undefined;
  private model: TopologyModel | undefined;
  private fitted = false;
  private focusId: string | undefined;
  private restyleQueued = false;
  private styledFor = '';
  private updates = 0;
  private updateMs = 0;

  constructor(private readonly opts: TopologyViewOptions) {
    this.container = h('div', {
      class: 'topology-canvas',
      tabindex: '0',
      role: 'group',
      'aria-roledescription': 'network graph',
      'aria-label': 'Topology. Arrow keys move between nodes, Enter shows the details of one.',
      'data-testid': 'topology',
    });
    this.container.addEventListener('keydown', (ev) => this.onKey(ev));
    this.summary = h('p', { class: 'topology-summary' });
    this.announcer = h('p', { class: 'sr-only', 'aria-live': 'polite' });
    const button = (label: string, title: string, fn: () => void) => h('button', { type: 'button', title, onclick: () => fn() }, label);
    this.element = h(
      'section',
      { class: 'page topology-page', 'aria-labelledby': 'topology-title' },
      h(
        'div',
        { class: 'toolbar' },
        h('h2', { id: 'topology-title' }, 'Topology'),
        this.summary,
        h(
          'div',
          { class: 'toolbar-buttons' },
          button('Fit', 'Show the whole network', () => this.fit()),
          button('+', 'Zoom in', () => this.zoom(1.25)),
          button('−', 'Zoom out', () => this.zoom(0.8)),
          button('Tidy', 'Lay everything out afresh (closes the gaps left by removed objects)', () => {
            this.memory = undefined;
            this.render();
            this.fit();
          }),
        ),
      ),
      this.container,
      this.announcer,
      legend(),
    );
  }

  /** Create cytoscape once the container is on screen (it measures it). */
  attach(): void {
    if (this.cy) {
      this.cy.resize();
      return;
    }
    this.cy = cytoscape({
      container: this.container,
      style: stylesheet(),
      layout: { name: 'preset' },
      minZoom: 0.05,
      maxZoom: 4,
      boxSelectionEnabled: false,
      autoungrabify: true,
      selectionType: 'single',
    });
    this.cy.on('zoom', () => this.zoomChanged());
    this.cy.on('tap', 'node', (ev) => {
      const node = ev.target as NodeSingular;
      this.setFocus(node.id(), false);
      this.opts.onSelect(node.id());
    });
    this.render();
  }

  /** What is drawn, for tests and the keyboard: every visible node. */
  nodes(): DrawnNode[] {
    return (this.model?.nodes ?? []).map((n) => ({ id: n.id, kind: n.kind, label: n.label, health: n.health }));
  }

  cost(): DrawCost {
    const r = (this.cy as unknown as { renderer(): RendererCounters } | undefined)?.renderer();
    return { updates: this.updates, updateMs: this.updateMs, frames: r?.redrawCount ?? 0, frameMs: r?.redrawTotalTime ?? 0 };
  }

  render(): void {
    const t0 = performance.now();
    try {
      this.update();
    } finally {
      this.updates += 1;
      this.updateMs += performance.now() - t0;
    }
  }

  private update(): void {
    const model = buildTopology(this.opts.store, this.memory);
    this.memory = model.memory;
    this.model = model;
    const counts = { Host: 0, Network: 0, Endpoint: 0, Firewall: 0, Router: 0 };
    for (const n of model.nodes) if (!n.missing) counts[n.kind]++;
    this.summary.textContent = `${plural(counts.Host, 'host')} · ${plural(counts.Network, 'network')} · ${plural(counts.Endpoint, 'endpoint')} · ${plural(counts.Firewall, 'firewall')} · ${plural(counts.Router, 'router')}`;
    const cy = this.cy;
    if (!cy) return;
    const wanted = new Map<string, ElementDefinition>();
    for (const n of model.nodes) {
      const data: Record<string, unknown> = { id: n.id, text: drawnLabel(n), short: drawnLabel(n, true), width: n.width, height: n.height };
      const classes = [n.kind, `health-${n.health}`, n.missing ? 'missing' : ''].filter(Boolean).join(' ');
      wanted.set(n.id, { group: 'nodes', data, position: { x: n.x, y: n.y }, classes });
    }
    for (const e of model.edges) wanted.set(e.id, { group: 'edges', data: { id: e.id, source: e.source, target: e.target }, classes: e.kind });

    cy.batch(() => {
      cy.elements().forEach((el) => {
        const want = wanted.get(el.id());
        if (!want) cy.remove(el);
      });
      const added: ElementDefinition[] = [];
      for (const [id, def] of wanted) {
        const el = cy.getElementById(id);
        if (el.empty()) {
          added.push(def);
          continue;
        }
        if (el.data('text') !== def.data.text || el.data('short') !== def.data.short) el.data({ text: def.data.text, short: def.data.short });
        if (el.data('width') !== def.data.width || el.data('height') !== def.data.height) el.data({ width: def.data.width, height: def.data.height });
        if (def.classes !== undefined && el.classes().join(' ') !== def.classes) el.classes(def.classes as string);
        const p = def.position;
        if (p && el.isNode()) {
          const now = el.position();
          if (now.x !== p.x || now.y !== p.y) el.position(p);
        }
      }
      // Nodes before the edges that join them.
      added.sort((a, b) => (a.group === 'edges' ? 1 : 0) - (b.group === 'edges' ? 1 : 0));
      cy.add(added);
    });
    if (!this.fitted && model.nodes.length > 0) {
      this.fitted = true;
      this.firstView();
    }
    if (this.focusId && cy.getElementById(this.focusId).empty()) this.focusId = undefined;
  }

  /** Mark a node selected (from details opened elsewhere: a list row, an event). */
  select(key: string | undefined): void {
    const cy = this.cy;
    if (!cy) return;
    cy.$(':selected').unselect();
    cy.edges('.near').removeClass('near');
    if (key === undefined) return;
    const node = cy.getElementById(key);
    if (node.empty()) return;
    node.select();
    node.connectedEdges().addClass('near');
  }

  /** Restyle for the new zoom (once per frame): label sizes and long or short network labels. */
  private zoomChanged(): void {
    if (this.restyleQueued) return;
    this.restyleQueued = true;
    requestAnimationFrame(() => {
      this.restyleQueued = false;
      const cy = this.cy;
      if (!cy) return;
      const zoom = cy.zoom();
      const key = `${Math.round(labelFont(zoom))}/${zoom < SHORT_LABEL_ZOOM}/${zoom >= ENDPOINT_LABEL_ZOOM}/${zoom < MEMBER_EDGE_ZOOM}`;
      if (key === this.styledFor) return;
      this.styledFor = key;
      cy.style(stylesheet(zoom));
    });
  }

  /** Everything in view (the Fit button). */
  fit(): void {
    this.showLayout(this.cy?.minZoom() ?? 0.05);
  }

  /** The first view: everything, unless that makes names unreadable (a narrow window, a big network); then the top left at a zoom where they read. */
  private firstView(): void {
    this.showLayout(MIN_FIRST_ZOOM);
  }

  /**
   * Zoom and pan to the layout's own bounds plus room for the labels
   * outside them (network names on the left, host names on top), no closer
   * than 1:1 and no further than minZoom; centred when it all fits, else
   * its top left. Not cy.fit(): that measures every label first, seconds
   * with 500 endpoints.
   */
  private showLayout(minZoom: number): void {
    const cy = this.cy;
    const b = this.model?.bounds;
    if (!cy || !b) return;
    const margin = 16;
    const top = HOST_LABEL_PX + margin;
    const zoomWith = (left: number) => Math.min((cy.width() - left - margin) / (b.x2 - b.x1), (cy.height() - top - margin) / Math.max(1, b.y2 - b.y1));
    // Network labels are two lines (name, subnet and VNI) from SHORT_LABEL_ZOOM up, the name alone below.
    const wide = zoomWith(NETWORK_LABEL_PX.long + margin);
    const fitZoom = wide >= SHORT_LABEL_ZOOM ? wide : Math.min(zoomWith(NETWORK_LABEL_PX.short + margin), SHORT_LABEL_ZOOM - 0.01);
    const zoom = Math.min(1, Math.max(fitZoom, minZoom));
    const left = (zoom >= SHORT_LABEL_ZOOM ? NETWORK_LABEL_PX.long : NETWORK_LABEL_PX.short) + margin;
    cy.zoom(zoom);
    const dx = Math.max(0, (cy.width() - left - margin - (b.x2 - b.x1) * zoom) / 2);
    const dy = Math.max(0, (cy.height() - top - margin - (b.y2 - b.y1) * zoom) / 2);
    cy.pan({ x: left + dx - b.x1 * zoom, y: top + dy - b.y1 * zoom });
  }

  private zoom(factor: number): void {
    const cy = this.cy;
    if (!cy) return;
    cy.zoom({ level: cy.zoom() * factor, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  }

  private onKey(ev: KeyboardEvent): void {
    const dir = ({ ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] } as Record<string, [number, number]>)[ev.key];
    if (dir) {
      ev.preventDefault();
      const next = this.neighbourInDirection(dir[0], dir[1]);
      if (next) this.setFocus(next.id, true);
      return;
    }
    if ((ev.key === 'Enter' || ev.key === ' ') && this.focusId) {
      ev.preventDefault();
      this.opts.onSelect(this.focusId);
    } else if (ev.key === '+' || ev.key === '=') {
      this.zoom(1.25);
    } else if (ev.key === '-') {
      this.zoom(0.8);
    }
  }

  /** The nearest node roughly in the direction (screen axes), or the first network when none has focus yet. A host counts as where its name is drawn: the top of its column. */
  private neighbourInDirection(dx: number, dy: number): GraphNode | undefined {
    const all = this.model?.nodes ?? [];
    const at = (n: GraphNode) => (n.kind === 'Host' ? { x: n.x, y: n.y - n.height / 2 } : { x: n.x, y: n.y });
    const from = all.find((n) => n.id === this.focusId);
    if (!from) return all.find((n) => n.kind === 'Network') ?? all[0];
    const f = at(from);
    let best: GraphNode | undefined;
    let bestScore = Infinity;
    for (const n of all) {
      if (n.id === from.id) continue;
      const p = at(n);
      const along = (p.x - f.x) * dx + (p.y - f.y) * dy;
      if (along <= 0) continue;
      const across = Math.abs((p.x - f.x) * dy - (p.y - f.y) * dx);
      // Within about 60° of the direction; straight ahead wins over nearer but sideways.
      if (across > along * 1.8) continue;
      const score = along + across * 2;
      if (score < bestScore) {
        bestScore = score;
        best = n;
      }
    }
    return best;
  }

  private setFocus(id: string, fromKeyboard: boolean): void {
    const cy = this.cy;
    this.focusId = id;
    const n = this.model?.nodes.find((x) => x.id === id);
    if (n) this.announcer.textContent = `${n.kind} ${n.name}: ${n.label.replace(/\n/g, ', ')}. ${HEALTH_WORD[n.health]}: ${n.healthText}`;
    if (!cy) return;
    cy.nodes('.kbd-focus').removeClass('kbd-focus');
    const node = cy.getElementById(id);
    if (node.empty()) return;
    node.addClass('kbd-focus');
    if (fromKeyboard) {
      // Keep the focused node on screen.
      const rp = node.renderedPosition();
      if (rp.x < 20 || rp.y < 20 || rp.x > cy.width() - 20 || rp.y > cy.height() - 20) cy.center(node);
    }
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function legend(): HTMLElement {
  const item = (health: Health, text: string) =>
    h('li', {}, h('span', { class: `swatch swatch-${health}`, 'aria-hidden': 'true' }, HEALTH_GLYPH[health]), ` ${HEALTH_WORD[health]}: ${text}`);
  return h(
    'div',
    { class: 'legend', role: 'note', 'aria-label': 'Legend' },
    h(
      'ul',
      {},
      item('ok', 'Ready, host connected (solid border)'),
      item('bad', 'not ready, host disconnected or gone (dashed border)'),
      item('unknown', 'no status yet (dotted border)'),
    ),
    h(
      'ul',
      {},
      h('li', {}, 'Columns: hosts'),
      h('li', {}, 'Rows: networks (subnet, VNI)'),
      h('li', {}, '● endpoint (address; ✕ or ? when not healthy)'),
      h('li', {}, '⬢ firewall (dashed lines: the networks it guards)'),
      h('li', {}, '◆ router (dotted lines: the networks it connects; ↗ outside: it has a way out)'),
    ),
  );
}
