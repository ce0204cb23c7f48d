// The events panel: the controller's recent events as the watch delivers
// them, newest first. The type is written out (Warning / Normal), not only
// coloured; the object an event is about opens its details.
import type { WeftEvent } from '../../model/events.js';
import { ago, h, replaceChildren } from './dom.js';
import { EventFeed } from './event-feed.js';

/** Rows drawn; the feed keeps more for the details panel. */
const SHOWN = 50;

export interface EventsViewOptions {
  onSelect: (key: string) => void;
  /** Ask for a redraw soon (batched with the other views'); `render` draws. */
  requestRender: () => void;
}

export class EventsView {
  readonly element: HTMLElement;
  readonly feed = new EventFeed();
  private readonly list: HTMLElement;
  private readonly onlyWarnings: HTMLInputElement;
  /** New events came while the keyboard was inside the list: redraw when it leaves, not under the user's feet. */
  private deferred = false;

  constructor(private readonly opts: EventsViewOptions) {
    this.list = h('ol', { class: 'event-list', 'aria-label': 'Recent events, newest first' });
    this.list.addEventListener('focusout', (ev) => {
      if (this.deferred && !this.list.contains(ev.relatedTarget as Node | null)) this.render();
    });
    this.onlyWarnings = h('input', { type: 'checkbox', id: 'events-warnings', onchange: () => this.render() });
    this.element = h(
      'aside',
      { class: 'panel events', 'aria-labelledby': 'events-title', 'data-testid': 'events' },
      h('div', { class: 'panel-header' }, h('h2', { id: 'events-title' }, 'Events'), h('label', { class: 'inline' }, this.onlyWarnings, ' Warnings only')),
      this.list,
    );
  }

  /** Keep new events; the list is redrawn at the next batched render, not once per event. */
  add(events: WeftEvent[]): void {
    let changed = false;
    for (const e of events) changed = this.feed.add(e) || changed;
    if (changed) this.opts.requestRender();
  }

  clear(): void {
    this.feed.clear();
    this.render();
  }

  render(): void {
    if (this.list.contains(document.activeElement)) {
      this.deferred = true;
      return;
    }
    this.deferred = false;
    const all = this.feed.list().filter((e) => !this.onlyWarnings.checked || e.type === 'Warning');
    if (all.length === 0) {
      replaceChildren(this.list, h('li', { class: 'empty' }, 'No events yet.'));
      return;
    }
    replaceChildren(
      this.list,
      ...all.slice(0, SHOWN).map((e) => {
        const key = `${e.involved.kind}/${e.involved.name}`;
        return h(
          'li',
          { class: `event event-${e.type}` },
          h('span', { class: 'event-type' }, e.type === 'Warning' ? '⚠ Warning' : 'Normal'),
          ' ',
          h('time', { datetime: e.time, title: e.time }, ago(e.time)),
          ' ',
          h('button', { type: 'button', class: 'link', onclick: () => this.opts.onSelect(key) }, `${e.involved.kind.toLowerCase()}/${e.involved.name}`),
          ' ',
          h('strong', {}, e.reason),
          `: ${e.message}`,
          e.count > 1 ? ` (×${e.count})` : '',
        );
      }),
    );
  }
}
