// The editor page: YAML in CodeMirror, checked as it is typed with the
// checks of `weft apply` (editor-check.ts); problems are marked at their
// line and listed. "Review changes" asks the controller for a dry run with
// diffs; "Apply" sends the items after a confirmation. Nothing is sent
// while the text has problems.
import { yaml } from '@codemirror/lang-yaml';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorSelection } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { WeftError } from '../../model/errors.js';
import type { LoadedResource } from '../../model/resource-text.js';
import { ApiError, type ApiClient } from './api-client.js';
import { ApplyPanel, countActions } from './apply-panel.js';
import { h, replaceChildren } from './dom.js';
import { checkEditorText, markServerError, type EditorCheck, type EditorProblem } from './editor-check.js';
import { TEMPLATES } from './resource-yaml.js';

/** Wait this long after the last keystroke before checking (parsing 1 MB takes a while). */
const CHECK_DELAY_MS = 200;

const CHANGED_WHILE_CONFIRMING = 'The text changed while the confirmation was open, so nothing was applied. Press Apply again to apply the text as it is now.';

export interface EditorViewOptions {
  api: ApiClient;
  onUnauthorized: (message: string) => void;
}

export class EditorPage {
  readonly element: HTMLElement;
  private readonly view: EditorView;
  private readonly errorsList: HTMLElement;
  private readonly status: HTMLElement;
  private readonly note: HTMLElement;
  private readonly reviewButton: HTMLButtonElement;
  private readonly applyButton: HTMLButtonElement;
  private readonly panel = new ApplyPanel();
  private check: EditorCheck | undefined;
  /** Problems the controller reported, shown until the text changes. */
  private serverProblems: EditorProblem[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private busy = false;
  /** The text the last successful review was of. */
  private reviewedText: string | undefined;
  private reviewedSummary: string | undefined;

  constructor(private readonly opts: EditorViewOptions) {
    this.reviewButton = h('button', { type: 'button', 'data-testid': 'review', onclick: () => void this.review() }, 'Review changes');
    this.applyButton = h('button', { type: 'button', class: 'primary', 'data-testid': 'apply', onclick: () => this.askApply() }, 'Apply');
    this.status = h('p', { class: 'editor-status', id: 'editor-status', role: 'status' });
    this.note = h('p', { class: 'help', hidden: true });
    this.errorsList = h('ol', { class: 'problems', 'data-testid': 'editor-errors', 'aria-label': 'Problems in the text' });
    const template = h(
      'select',
      { id: 'editor-template', onchange: (ev: Event) => this.insertTemplate(ev.target as HTMLSelectElement) },
      h('option', { value: '' }, 'Insert a template…'),
      ...Object.keys(TEMPLATES).map((k) => h('option', { value: k }, k)),
    );
    const mount = h('div', { class: 'editor', 'data-testid': 'editor' });
    this.view = new EditorView({
      parent: mount,
      doc: '',
      extensions: [
        basicSetup,
        yaml(),
        lintGutter(),
        keymap.of([{ key: 'Mod-Enter', run: () => (void this.review(), true) }]),
        EditorView.contentAttributes.of({ 'aria-label': 'Resources as YAML', 'aria-describedby': 'editor-status' }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) this.textChanged();
        }),
      ],
    });
    this.element = h(
      'section',
      { class: 'page editor-page', 'aria-labelledby': 'editor-title' },
      h(
        'div',
        { class: 'toolbar' },
        h('h2', { id: 'editor-title' }, 'Change'),
        h('label', { class: 'sr-only', for: 'editor-template' }, 'Insert a template'),
        template,
        h('div', { class: 'toolbar-buttons' }, this.reviewButton, this.applyButton),
      ),
      h('p', { class: 'help' }, 'Write or paste resources (several documents separated by ---). They are checked as you type, like weft apply. Ctrl+Enter reviews.'),
      this.note,
      mount,
      this.status,
      this.errorsList,
      this.panel.confirm,
      this.panel.result,
      this.panel.review,
    );
    this.runCheck();
  }

  getText(): string {
    return this.view.state.doc.toString();
  }

  /** Replace the text (undoable with Ctrl+Z) and say what was loaded. */
  setText(text: string, what?: string): void {
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: text }, selection: EditorSelection.cursor(0), scrollIntoView: true });
    this.note.hidden = what === undefined;
    this.note.textContent = what === undefined ? '' : `Loaded ${what}. Ctrl+Z brings back the text that was here before.`;
    this.runCheck();
  }

  focus(): void {
    this.view.focus();
  }

  /** Escape: close the confirmation if it is open. Returns whether it did something. */
  escape(): boolean {
    if (!this.panel.confirming) return false;
    this.panel.hideConfirm();
    this.applyButton.focus();
    return true;
  }

  private insertTemplate(select: HTMLSelectElement): void {
    const text = TEMPLATES[select.value];
    select.value = '';
    if (text === undefined) return;
    const doc = this.view.state.doc;
    const sep = doc.length === 0 ? '' : doc.toString().endsWith('\n') ? '---\n' : '\n---\n';
    this.view.dispatch({ changes: { from: doc.length, insert: sep + text }, selection: EditorSelection.cursor(doc.length + sep.length), scrollIntoView: true });
    this.view.focus();
  }

  private textChanged(): void {
    this.serverProblems = [];
    this.check = undefined;
    this.panel.markReviewStale();
    if (this.panel.confirming) {
      // The confirmation was for the text as it was: confirming now would apply something else.
      this.panel.hideConfirm();
      this.panel.showNotice(CHANGED_WHILE_CONFIRMING);
    }
    this.updateButtons();
    this.status.textContent = 'Checking…';
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.runCheck(), CHECK_DELAY_MS);
  }

  private runCheck(): void {
    this.timer = undefined;
    this.check = checkEditorText(this.getText());
    this.showProblems();
    this.updateButtons();
  }

  private showProblems(): void {
    const check = this.check;
    if (!check) return;
    const all = [...check.problems, ...this.serverProblems];
    const diagnostics: Diagnostic[] = all.map((p) => ({ from: p.from, to: p.to, severity: 'error', message: p.text, source: p.problem.path === undefined ? 'weft' : p.problem.path }));
    this.view.dispatch(setDiagnostics(this.view.state, diagnostics));
    const n = check.problems.length;
    const count = check.resources.length;
    this.status.textContent =
      n > 0
        ? `${n} problem${n === 1 ? '' : 's'}: fix ${n === 1 ? 'it' : 'them'} to review or apply.`
        : count === 0
          ? 'No resources yet.'
          : `${count} resource${count === 1 ? '' : 's'}, no problems found.`;
    this.status.className = `editor-status ${n > 0 ? 'has-problems' : ''}`;
    replaceChildren(
      this.errorsList,
      ...all.map((p) =>
        h('li', {}, h('button', { type: 'button', class: 'link', title: 'Go to this place in the text', onclick: () => this.goTo(p.from) }, p.text)),
      ),
    );
  }

  private goTo(pos: number): void {
    this.view.dispatch({ selection: EditorSelection.cursor(Math.min(pos, this.view.state.doc.length)), scrollIntoView: true });
    this.view.focus();
  }

  private sendable(): LoadedResource[] | undefined {
    const c = this.check;
    if (!c || c.problems.length > 0 || c.resources.length === 0) return undefined;
    return c.resources;
  }

  private updateButtons(): void {
    const ok = !this.busy && this.sendable() !== undefined;
    this.reviewButton.disabled = !ok;
    this.applyButton.disabled = !ok;
  }

  private async review(): Promise<void> {
    const items = this.sendable();
    if (!items || this.busy) return;
    const text = this.getText();
    this.panel.hideConfirm();
    await this.send('review', items, async () => {
      const res = await this.opts.api.apply({ items: items.map((r) => r.resource), dryRun: true, diff: true });
      this.panel.showReview(res);
      // Typed while the dry run was under way: this diff is of the old text.
      if (this.getText() !== text) this.panel.markReviewStale();
      this.reviewedText = text;
      this.reviewedSummary = countActions(res.results);
    });
  }

  private askApply(): void {
    const items = this.sendable();
    if (!items || this.busy) return;
    const text = this.getText();
    const reviewed = this.reviewedText === text ? this.reviewedSummary : undefined;
    this.panel.askConfirm(items.length, reviewed, () => void this.apply(items, text));
  }

  private async apply(items: LoadedResource[], text: string): Promise<void> {
    // textChanged closes the confirmation, so this is a safety net: never send text other than what was confirmed.
    if (this.getText() !== text) {
      this.panel.showNotice(CHANGED_WHILE_CONFIRMING);
      return;
    }
    await this.send('result', items, async () => {
      const res = await this.opts.api.apply({ items: items.map((r) => r.resource) });
      this.panel.showResult(res);
      this.reviewedText = undefined;
      this.panel.markReviewStale();
    });
  }

  /** One request, with the busy state, and the controller's error placed in the text where it points. */
  private async send(panel: 'review' | 'result', items: LoadedResource[], run: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.updateButtons();
    this.panel.showBusy(panel, panel === 'review' ? 'Asking the controller what would change…' : 'Applying…');
    const text = this.getText();
    try {
      await run();
    } catch (e) {
      if (e instanceof ApiError && e.unauthorized) {
        this.opts.onUnauthorized(e.message);
        return;
      }
      const body = e instanceof ApiError ? e.body : undefined;
      const message = e instanceof Error ? e.message : String(e);
      const placed = body && this.getText() === text ? markServerError(text, WeftError.fromBody(body), items) : [];
      this.serverProblems = placed;
      this.showProblems();
      this.panel.showError(panel, panel === 'review' ? 'Review' : 'Apply', message, body, placed.map((p) => p.text));
    } finally {
      this.busy = false;
      this.updateButtons();
    }
  }
}
