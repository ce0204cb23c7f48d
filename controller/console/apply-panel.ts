// Below the editor: what an apply would change (a server dry run, shown
// per resource as `weft diff` prints it), the confirmation before a real
// apply, and what the controller answered, results or its error with
// details. DOM only; the editor decides when each is shown.
import type { ErrorBody } from '../../model/errors.js';
import type { ApplyItemResult, ApplyResult } from '../../model/rest.js';
import { applyDiffs, resourceId } from '../../model/resource-diff.js';
import { h, replaceChildren } from './dom.js';


/** "2 created, 1 configured" */
export function countActions(results: ApplyItemResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r.action, (counts.get(r.action) ?? 0) + 1);
  return [...counts].map(([a, n]) => `${n} ${a}`).join(', ');
}

export class ApplyPanel {
  readonly review: HTMLElement;
  readonly confirm: HTMLElement;
  readonly result: HTMLElement;
  private readonly confirmText: HTMLElement;
  private readonly confirmButton: HTMLButtonElement;
  private onConfirm: (() => void) | undefined;

  constructor() {
    this.review = h('section', { class: 'review', 'aria-labelledby': 'review-title', 'aria-live': 'polite', 'data-testid': 'diff', hidden: true });
    this.confirmText = h('p', { id: 'confirm-text' });
    this.confirmButton = h('button', { type: 'button', class: 'primary danger', 'data-testid': 'apply-confirm', onclick: () => this.confirmed() }, 'Apply now');
    this.confirm = h(
      'div',
      { class: 'confirm', role: 'alertdialog', 'aria-modal': 'false', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text', hidden: true },
      h('h3', { id: 'confirm-title' }, 'Apply these changes?'),
      this.confirmText,
      h('div', { class: 'confirm-buttons' }, this.confirmButton, h('button', { type: 'button', 'data-testid': 'apply-cancel', onclick: () => this.hideConfirm() }, 'Cancel')),
    );
    this.result = h('section', { class: 'apply-result', 'aria-live': 'polite', 'data-testid': 'apply-result', hidden: true });
  }

  get confirming(): boolean {
    return !this.confirm.hidden;
  }

  askConfirm(count: number, reviewed: string | undefined, onConfirm: () => void): void {
    this.onConfirm = onConfirm;
    const what = `${count} resource${count === 1 ? '' : 's'}`;
    this.confirmText.textContent = reviewed
      ? `This applies ${what} to the controller, as reviewed below (${reviewed}). The network changes at once.`
      : `This applies ${what} to the controller. The network changes at once. "Review changes" shows the differences first.`;
    this.confirm.hidden = false;
    this.confirmButton.focus();
  }

  hideConfirm(): void {
    this.confirm.hidden = true;
    this.onConfirm = undefined;
  }

  private confirmed(): void {
    const fn = this.onConfirm;
    this.hideConfirm();
    fn?.();
  }

  showBusy(panel: 'review' | 'result', text: string): void {
    const el = panel === 'review' ? this.review : this.result;
    el.hidden = false;
    el.setAttribute('aria-busy', 'true');
    replaceChildren(el, h('p', { class: 'busy' }, text));
  }

  showReview(res: ApplyResult): void {
    this.review.hidden = false;
    this.review.removeAttribute('aria-busy');
    this.review.classList.remove('stale');
    const items = applyDiffs(res);
    replaceChildren(
      this.review,
      h('h3', { id: 'review-title' }, `Review: ${countActions(res.results)} (dry run, nothing stored)`),
      h('p', { class: 'stale-note' }, 'The text changed since this review: review again before applying.'),
      ...items.map((i) =>
        h(
          'article',
          { class: 'diff-item', 'data-testid': 'diff-item', 'data-id': i.id, 'data-action': i.action },
          h('h4', {}, h('code', {}, i.id), ' ', h('span', { class: `action action-${i.action}` }, i.action)),
          i.diff === '' ? h('p', { class: 'no-diff' }, 'no differences') : diffBlock(i.diff),
        ),
      ),
    );
  }

  markReviewStale(): void {
    if (!this.review.hidden) this.review.classList.add('stale');
  }

  showResult(res: ApplyResult): void {
    this.result.hidden = false;
    this.result.removeAttribute('aria-busy');
    this.result.className = 'apply-result ok';
    const changed = res.results.some((r) => r.action !== 'unchanged');
    replaceChildren(
      this.result,
      h('h3', {}, changed ? `Applied: ${countActions(res.results)}` : 'Nothing to change: every resource is unchanged'),
      h('ul', {}, ...res.results.map((r) => h('li', {}, h('code', {}, resourceId(r)), ` ${r.action}`))),
      h('p', { class: 'help' }, `Store revision ${res.revision}. The topology and lists follow as the hosts converge.`),
    );
  }

  /** A word about why nothing was sent, where results go. */
  showNotice(text: string): void {
    this.result.hidden = false;
    this.result.removeAttribute('aria-busy');
    this.result.className = 'apply-result notice';
    replaceChildren(this.result, h('p', { role: 'status' }, text));
  }

  /** The controller's error: its message, and every detail (those placed in the text are also marked there). */
  showError(panel: 'review' | 'result', what: string, message: string, body: ErrorBody | undefined, placed: string[]): void {
    const el = panel === 'review' ? this.review : this.result;
    el.hidden = false;
    el.removeAttribute('aria-busy');
    if (panel === 'result') el.className = 'apply-result error';
    const details = placed.length > 0 ? placed : (body?.details ?? []).map((d) => `${d.path || '/'}: ${d.message}${d.allowed ? ` (allowed: ${d.allowed})` : ''}`);
    replaceChildren(
      el,
      h('h3', { role: 'alert' }, `${what} failed${body ? ` (${body.code})` : ''}: nothing was changed`),
      h('p', {}, message),
      details.length > 0 ? h('ul', { class: 'error-details' }, ...details.map((d) => h('li', {}, d))) : false,
      body?.retriable ? h('p', { class: 'help' }, 'The controller says this may succeed if you try again.') : false,
    );
  }

  clear(): void {
    this.hideConfirm();
    this.review.hidden = true;
    this.result.hidden = true;
  }
}

function diffBlock(diff: string): HTMLElement {
  const lines = diff.replace(/\n$/, '').split('\n');
  return h(
    'pre',
    { class: 'diff' },
    ...lines.map((line) => {
      const cls = line.startsWith('+++') || line.startsWith('---') ? 'diff-file' : line.startsWith('@@') ? 'diff-hunk' : line.startsWith('+') ? 'diff-add' : line.startsWith('-') ? 'diff-del' : 'diff-ctx';
      return h('span', { class: cls }, `${line}\n`);
    }),
  );
}
