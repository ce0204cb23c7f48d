// The login page: the admin token, checked against the API before it is
// kept. A refused token stays on this page with the reason.
import { h, replaceChildren } from './dom.js';

export interface LoginViewOptions {
  /** Check the token with the controller; resolve, or reject with a message to show. */
  verify: (token: string) => Promise<void>;
  onLoggedIn: (token: string) => void;
}

export class LoginView {
  readonly element: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly error: HTMLElement;
  private readonly submit: HTMLButtonElement;

  constructor(private readonly opts: LoginViewOptions) {
    // No name attribute: even if the script failed and the browser submitted the form itself, the token would not be sent.
    this.input = h('input', {
      id: 'login-token',
      type: 'password',
      autocomplete: 'off',
      spellcheck: 'false',
      required: true,
      'aria-describedby': 'login-help login-error',
      'data-testid': 'login-token',
    });
    this.error = h('p', { id: 'login-error', class: 'login-error', role: 'alert', 'data-testid': 'login-error', hidden: true });
    this.submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'login-submit' }, 'Log in');
    const form = h(
      'form',
      { class: 'login-form', method: 'post', action: '#', 'aria-labelledby': 'login-title', novalidate: true },
      h('h1', { id: 'login-title' }, 'weft console'),
      h('label', { for: 'login-token' }, 'Admin token'),
      this.input,
      h(
        'p',
        { id: 'login-help', class: 'help' },
        'The controller writes it to admin.token in its data directory (./.weft/admin.token for weft up). ',
        'It is kept only in this tab and sent as a bearer header.',
      ),
      this.error,
      this.submit,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.login();
    });
    this.element = h('main', { class: 'login-page', id: 'main' }, form);
  }

  /** Show the page, with a message when the user was sent here (logged out, token refused). */
  show(message?: string): void {
    this.setError(message);
    this.input.value = '';
    this.submit.disabled = false;
    queueMicrotask(() => this.input.focus());
  }

  private setError(message: string | undefined): void {
    this.error.hidden = message === undefined;
    replaceChildren(this.error, message ?? '');
  }

  private async login(): Promise<void> {
    const token = this.input.value.trim();
    if (token === '') {
      this.setError('Enter the admin token.');
      this.input.focus();
      return;
    }
    this.submit.disabled = true;
    this.setError(undefined);
    try {
      await this.opts.verify(token);
      this.opts.onLoggedIn(token);
    } catch (e) {
      this.setError(e instanceof Error ? e.message : String(e));
      this.input.select();
      this.input.focus();
    } finally {
      this.submit.disabled = false;
    }
  }
}
