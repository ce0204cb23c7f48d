// The controller's REST API as the CLI uses it. Errors come back as
// WeftError (from the catalogue's ErrorBody); a controller that cannot be
// reached at all is a CliError with exit status 3.
import { isErrorBody, WeftError, type ErrorCode } from '../model/errors.js';
import { KIND_NAMES, type Kind } from '../model/kind-names.js';
import type { AnyResource } from '../model/kinds.js';
import type { ApplyRequest, ApplyResult } from '../model/rest.js';
import { CliError, EXIT_UNREACHABLE } from './cli-error.js';
import { httpFetch, type HttpFetch, type HttpResponse } from './http-fetch.js';
import type { ClientConfig } from './client-config.js';

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface ResourceList<R = AnyResource> {
  apiVersion: string;
  kind: string;
  revision: number;
  items: R[];
}

export type { ApplyAction } from '../model/rest.js';
/** What POST /apply answers (model/rest.ts ApplyResult). */
export type ApplyResponse = ApplyResult;

/** Everything of an apply request besides the items (model/rest.ts ApplyRequest). */
export type ApplyOptions = Omit<ApplyRequest, 'items'>;

/** fetch, or anything that answers the same for these requests. */
type Fetch = HttpFetch;

function codeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'Unauthorized';
  if (status === 404) return 'NotFound';
  if (status === 409) return 'Conflict';
  if (status === 503) return 'NotReady';
  if (status >= 400 && status < 500) return 'Invalid';
  return 'Internal';
}

/** The innermost system error code of a failed fetch (undici wraps it). */
function causeCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('UND_ERR_') ) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

export class ApiClient {
  private readonly config: ClientConfig;
  private readonly fetchImpl: Fetch;
  private readonly timeoutMs: number;

  constructor(config: ClientConfig, opts: { fetch?: Fetch; timeoutMs?: number } = {}) {
    this.config = config;
    this.fetchImpl = opts.fetch ?? httpFetch;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  get server(): string {
    return this.config.server;
  }

  list(kind: Kind): Promise<ResourceList> {
    return this.request('GET', `/api/v1/${KIND_NAMES[kind].plural}`) as Promise<ResourceList>;
  }

  get(kind: Kind, name: string): Promise<AnyResource> {
    return this.request('GET', `/api/v1/${KIND_NAMES[kind].plural}/${encodeURIComponent(name)}`) as Promise<AnyResource>;
  }

  delete(kind: Kind, name: string): Promise<unknown> {
    return this.request('DELETE', `/api/v1/${KIND_NAMES[kind].plural}/${encodeURIComponent(name)}`);
  }

  /** One atomic POST /apply. `dryRun` may be a boolean (the old signature) or every option at once. */
  apply(items: unknown[], options: boolean | ApplyOptions = false): Promise<ApplyResponse> {
    const opts: ApplyOptions = typeof options === 'boolean' ? { dryRun: options } : options;
    const body: ApplyRequest = { items };
    if (opts.dryRun) body.dryRun = true;
    if (opts.diff) body.diff = true;
    if (opts.prune) body.prune = opts.prune;
    return this.request('POST', '/api/v1/apply', body) as Promise<ApplyResponse>;
  }

  async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = `${this.config.server}${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.config.token !== undefined) headers.authorization = `Bearer ${this.config.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: HttpResponse;
    try {
      res = await this.fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw this.unreachable(e);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.ok) return parsed;
    throw this.failure(method, path, res, parsed);
  }

  private unreachable(e: unknown): CliError {
    const name = (e as { name?: unknown } | null)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new CliError(`the controller at ${this.config.server} did not answer within ${this.timeoutMs / 1000}s`, EXIT_UNREACHABLE, { cause: e });
    }
    const code = causeCode(e) ?? (e instanceof Error ? e.message : String(e));
    return new CliError(
      `cannot reach the controller at ${this.config.server} (${code}): start it with weft up or weft controller, or point --server / WEFT_SERVER at it`,
      EXIT_UNREACHABLE,
      { cause: e },
    );
  }

  private failure(method: string, path: string, res: HttpResponse, body: unknown): WeftError {
    if (isErrorBody(body)) {
      const err = WeftError.fromBody(body);
      if (err.code !== 'Unauthorized') return err;
      return new WeftError('Unauthorized', `${err.message}: ${this.tokenHint()}`);
    }
    const code = codeForStatus(res.status);
    if (code === 'Unauthorized') return new WeftError(code, `the controller refused the request (HTTP ${res.status}): ${this.tokenHint()}`);
    return new WeftError(code, `${method} ${path}: HTTP ${res.status} ${res.statusText}`.trim());
  }

  private tokenHint(): string {
    if (this.config.token === undefined) {
      return 'no admin token found: pass --token-file DATA/admin.token or set WEFT_TOKEN (weft up and weft controller write DATA/admin.token)';
    }
    return `the token from ${this.config.tokenSource} was not accepted: pass the admin token of this controller with --token-file or WEFT_TOKEN`;
  }
}
