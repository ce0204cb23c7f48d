// The connection state of the watch, in words (and colour): connected,
// reconnecting (with when), offline. Stale data must never look live.
import { h } from './dom.js';
import type { ConnState } from './watch-client.js';

const TEXT: Record<ConnState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting',
  offline: 'Offline',
  stopped: 'Not connected',
};

export class ConnIndicator {
  readonly element: HTMLElement;
  private countdown: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly onRetry: () => void) {
    this.element = h('button', {
      type: 'button',
      class: 'conn conn-connecting',
      'data-testid': 'conn-state',
      'data-state': 'connecting',
      title: 'Connection to the controller\'s watch stream',
      onclick: () => this.onRetry(),
    });
    this.element.textContent = TEXT.connecting;
  }

  set(state: ConnState, detail: { retryAt?: number; reason?: string } = {}): void {
    if (this.countdown !== undefined) clearInterval(this.countdown);
    this.countdown = undefined;
    this.element.className = `conn conn-${state}`;
    this.element.dataset.state = state;
    const show = () => {
      let text = TEXT[state];
      if ((state === 'reconnecting' || state === 'offline') && detail.retryAt !== undefined) {
        const s = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
        text += s > 0 ? ` in ${s} s` : '…';
      }
      this.element.textContent = text;
      this.element.setAttribute('aria-label', `Connection: ${text}${state === 'reconnecting' || state === 'offline' ? '. Press to retry now.' : ''}`);
    };
    show();
    this.element.title = detail.reason ? `Watch stream: ${detail.reason}` : 'Watch stream to the controller';
    if (detail.retryAt !== undefined) this.countdown = setInterval(show, 1000);
  }
}
