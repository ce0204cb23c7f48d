// REST calls of the console: same origin, the admin token as a bearer
// header on every request (never in a URL), the controller's JSON error
// body (model/errors.ts) kept whole so the editor can place its details.
import { isErrorBody, type ErrorBody } from '../../model/errors.js';
import type { EventList } from '../../model/events.js';
import { KIND_NAMES, type AnyResource, type Kind } from '../../model/kinds.js';
import { API_PREFIX, type ApplyRequest, type ApplyResult, type ResourceList } from '../../model/rest.js';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** The controller's error body, when it sent one. */
    readonly body?: ErrorBody,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get unauthorized(): boolean {
    return this.status === 401;
  }
}

export type FetchLike = (input: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<{
  status: number;
  ok: boolean;
  text(): Promise<string>;
}>;

export class ApiClient {
  constructor(
    private readonly token: () => string | undefined,
    private readonly fetchImpl: FetchLike = (input, init) => fetch(input, init),
    private readonly base = '',
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.token();
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const init: { method: string; headers: Record<string, string>; body?: string } = { method, headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await this.fetchImpl(`${this.base}${API_PREFIX}${path}`, init);
    } catch (e) {
      throw new ApiError(`cannot reach the controller: ${e instanceof Error ? e.message : String(e)}`, 0);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      if (isErrorBody(json)) throw new ApiError(json.message, res.status, json);
      throw new ApiError(`the controller answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, res.status);
    }
    return json as T;
  }

  list<K extends Kind>(kind: K): Promise<ResourceList<Extract<AnyResource, { kind: K }>>> {
    return this.request('GET', `/${KIND_NAMES[kind].plural}`);
  }

  events(limit = 100): Promise<EventList> {
    return this.request('GET', `/events?limit=${limit}`);
  }

  apply(req: ApplyRequest): Promise<ApplyResult> {
    return this.request('POST', '/apply', req);
  }
}
