// The console's composition root: builds the views, the store and the
// watch client, routes between pages (#/topology, #/lists, #/editor: the
// hash, so the server needs no routes and the token never enters a URL),
// and handles login and logout.
import { KINDS, type AnyResource } from '../../model/kinds.js';
import { WATCH_PATH } from '../../model/watch.js';
import { ApiClient, ApiError } from './api-client.js';
import { ConnIndicator } from './conn-indicator.js';
import { DetailsView } from './details-view.js';
import { h, replaceChildren } from './dom.js';
import { EditorPage } from './editor-view.js';
import { EventsView } from './events-view.js';
import { ListsView } from './lists-view.js';
import { LoginView } from './login-view.js';
import { governFrames, type FrameWindow } from './frame-governor.js';
import { RenderBatcher, type RenderTimers } from './render-batcher.js';
import { editableYaml } from './resource-yaml.js';
import { session } from './session.js';
import { StateStore } from './state-store.js';
import { TopologyView, type DrawCost, type DrawnNode } from './topology-view.js';
import { WatchClient, type ConnState, type SocketLike } from './watch-client.js';

type Page = 'topology' | 'lists' | 'editor';
const PAGES: Page[] = ['topology', 'lists', 'editor'];
const PAGE_TITLES: Record<Page, string> = { topology: 'Topology', lists: 'Lists', editor: 'Change' };
/** While the watch is down, the views are refreshed from the REST API this often. */
const POLL_MS = 10_000;

declare global {
  interface Window {
    /** For end-to-end tests: what the topology draws. */
    __weftGraph?: { nodes(): DrawnNode[]; select(id: string): void; cost(): DrawCost };
    /** For end-to-end tests: the editor's text. */
    __weftEditor?: { getText(): string; setText(text: string): void };
  }
}

// Before anything asks for animation frames (frame-governor.ts says why).
const frames = governFrames(window as unknown as FrameWindow);
/** How long frames run at full rate after a redraw: cytoscape draws a change over the next few frames. */
const DRAW_FRAMES_MS = 150;

const root = document.getElementById('app') ?? document.body;
const store = new StateStore();
const api = new ApiClient(() => session.token());

let connState: ConnState = 'stopped';
let pollTimer: ReturnType<typeof setInterval> | undefined;
let page: Page = 'topology';
/** Where focus was when the details opened, to return it on Escape. */
let detailsOpener: HTMLElement | undefined;

const conn = new ConnIndicator(() => watch.retryNow());
const topology = new TopologyView({ store, onSelect: (key) => openDetails(key) });
const lists = new ListsView({ store, onSelect: (key) => openDetails(key) });
const events = new EventsView({ onSelect: (key) => openDetails(key), requestRender: () => renders.request('events') });
const editor = new EditorPage({ api, onUnauthorized: (m) => logout(refusedMessage(m)) });
const details = new DetailsView({
  store,
  events: () => events.feed.list(),
  onEdit: (o) => editObject(o),
  onSelect: (key) => openDetails(key),
  onClose: () => closeDetails(),
});

const watch = new WatchClient({
  url: `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${WATCH_PATH}`,
  token: () => session.token(),
  position: () => store.position,
  createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
  onFullState: () => store.beginFullState(),
  onDisconnect: () => store.abandonFullState(),
  onMessage: (msg) => {
    if (msg.type === 'event') events.add([msg.event]);
    else store.apply(msg);
  },
  onState: (state, detail) => {
    connState = state;
    conn.set(state, detail);
  },
  onUnauthorized: (m) => logout(refusedMessage(m)),
  online: () => navigator.onLine,
});

const login = new LoginView({
  verify: async (token) => {
    try {
      await new ApiClient(() => token).list('Host');
    } catch (e) {
      if (e instanceof ApiError && e.unauthorized) throw new Error('The controller refused this token (401 Unauthorized). Use the admin token from admin.token in its data directory.');
      throw new Error(e instanceof Error ? `Cannot log in: ${e.message}` : String(e));
    }
  },
  onLoggedIn: (token) => {
    session.save(token);
    startSession();
  },
});

function refusedMessage(detail: string): string {
  return `The controller refused the token (${detail}). Log in again.`;
}

// ---- the shell: header with navigation, the pages, the side panels ----

const navLinks = new Map<Page, HTMLAnchorElement>(
  PAGES.map((p) => [p, h('a', { href: `#/${p}`, 'data-testid': `nav-${p}` }, PAGE_TITLES[p])]),
);
const pages = new Map<Page, HTMLElement>([
  ['topology', topology.element],
  ['lists', lists.element],
  ['editor', editor.element],
]);
const mainRegion = h('main', { id: 'main', class: 'main', tabindex: '-1' }, ...pages.values());
const shell = h(
  'div',
  { class: 'shell' },
  h('button', { type: 'button', class: 'skip-link', onclick: () => mainRegion.focus() }, 'Skip to content'),
  h(
    'header',
    { class: 'top' },
    h('span', { class: 'brand' }, 'weft'),
    h('nav', { 'aria-label': 'Main' }, h('ul', {}, ...[...navLinks.values()].map((a) => h('li', {}, a)))),
    h('div', { class: 'top-right' }, conn.element, h('button', { type: 'button', 'data-testid': 'logout', onclick: () => logout() }, 'Log out')),
  ),
  h('div', { class: 'body' }, mainRegion, h('div', { class: 'side' }, details.element, events.element)),
);

function route(focus: boolean): void {
  const wanted = location.hash.replace(/^#\//, '') as Page;
  page = PAGES.includes(wanted) ? wanted : 'topology';
  for (const [p, el] of pages) el.hidden = p !== page;
  for (const [p, a] of navLinks) {
    if (p === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${PAGE_TITLES[page]} · weft console`;
  if (page === 'topology') requestAnimationFrame(() => topology.attach());
  if (page === 'lists') lists.render(true);
  if (focus) pages.get(page)?.querySelector<HTMLElement>('h2')?.focus();
}

// At most one redraw per RENDER_EVERY_MS for everything the watch feeds, and
// less often when redraws are costly (render-batcher.ts says why).
const RENDER_EVERY_MS = 500;
const renders = new RenderBatcher(
  {
    objects: () => {
      topology.render();
      if (page === 'lists') lists.render();
      details.render();
    },
    events: () => events.render(),
  },
  RENDER_EVERY_MS,
  {
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    frame: (fn) => {
      frames.wake(DRAW_FRAMES_MS);
      requestAnimationFrame(() => {
        fn();
        // Again after the update (it may have taken a while): cytoscape draws it in the frames that follow.
        frames.wake(DRAW_FRAMES_MS);
      });
    },
    now: () => performance.now(),
  } satisfies RenderTimers,
  // cytoscape draws in its own animation frames: charge those to the flush that changed the graph.
  { drawnElsewhereMs: () => topology.cost().frameMs },
);
store.subscribe(() => renders.request('objects'));

function openDetails(key: string): void {
  const active = document.activeElement;
  if (details.openKey === undefined && active instanceof HTMLElement && active !== document.body) detailsOpener = active;
  details.open(key);
  topology.select(key);
  requestAnimationFrame(() => topology.attach());
}

function closeDetails(): void {
  details.close();
  topology.select(undefined);
  requestAnimationFrame(() => topology.attach());
  const back = detailsOpener;
  detailsOpener = undefined;
  if (back?.isConnected) back.focus();
}

function editObject(o: AnyResource): void {
  editor.setText(editableYaml(o), `${o.kind.toLowerCase()}/${o.metadata.name} (resourceVersion ${o.metadata.resourceVersion ?? 'none'})`);
  location.hash = '#/editor';
  requestAnimationFrame(() => editor.focus());
}

// ---- data: a REST snapshot first (and while the watch is down), then the watch ----

/** A function, not `connState === 'connected'` inline: TypeScript would keep its narrowing across the await. */
function watchIsUp(): boolean {
  return connState === 'connected';
}

async function loadSnapshot(): Promise<void> {
  try {
    // A snapshot is only for while the watch is down. The store refuses the
    // reply when the watch changed anything (a `synced` included) after the
    // ticket was taken, or a newer snapshot got there first.
    if (!watchIsUp()) {
      const ticket = store.beginSnapshot();
      const lists = await Promise.all(KINDS.map((k) => api.list(k)));
      if (!watchIsUp()) {
        store.replaceAll(
          ticket,
          lists.flatMap((l) => l.items as AnyResource[]),
          Math.max(...lists.map((l) => l.revision)),
        );
      }
    }
    if (events.feed.list().length === 0) events.add((await api.events(50)).items);
  } catch (e) {
    if (e instanceof ApiError && e.unauthorized) logout(refusedMessage(e.message));
    // Anything else: the connection indicator already says the controller is unreachable.
  }
}

function startSession(): void {
  replaceChildren(root, shell);
  route(false);
  void loadSnapshot();
  watch.start();
  pollTimer = setInterval(() => {
    if (connState !== 'connected') void loadSnapshot();
  }, POLL_MS);
}

function logout(message?: string): void {
  watch.stop();
  if (pollTimer !== undefined) clearInterval(pollTimer);
  pollTimer = undefined;
  session.clear();
  details.close();
  store.clear();
  events.clear();
  replaceChildren(root, login.element);
  login.show(message);
}

window.addEventListener('hashchange', () => route(true));
window.addEventListener('online', () => watch.retryNow());
window.addEventListener('offline', () => {
  if (connState !== 'connected') conn.set('offline');
});
document.addEventListener('keydown', (ev) => {
  if (ev.key !== 'Escape' || ev.defaultPrevented) return;
  if (page === 'editor' && editor.escape()) return;
  if (details.openKey !== undefined) closeDetails();
});

window.__weftGraph = { nodes: () => topology.nodes(), select: (id) => openDetails(id), cost: () => topology.cost() };
window.__weftEditor = { getText: () => editor.getText(), setText: (t) => editor.setText(t) };

if (session.token() !== undefined) startSession();
else {
  replaceChildren(root, login.element);
  login.show();
}
