// One catalogue of stable error codes. HTTP status and retriable flag come
// from here, so the API, the CLI and the agent socket agree on them.

export const ERROR_CATALOGUE = {
  Invalid: { status: 400, retriable: false, doc: 'The request or document failed validation; see details for each field.' },
  BadJSON: { status: 400, retriable: false, doc: 'The body is not valid JSON.' },
  TooLarge: { status: 413, retriable: false, doc: 'The body exceeds the size limit.' },
  Unauthorized: { status: 401, retriable: false, doc: 'Missing or wrong bearer token.' },
  NotFound: { status: 404, retriable: false, doc: 'No such resource.' },
  AlreadyExists: { status: 409, retriable: false, doc: 'A resource with that name exists.' },
  Conflict: { status: 409, retriable: true, doc: 'The resource changed since you read it (stale resourceVersion), or a dependent object exists.' },
  Overlap: { status: 409, retriable: false, doc: 'The subnet overlaps another network.' },
  AddressInUse: { status: 409, retriable: false, doc: 'The requested address is assigned to another endpoint.' },
  Exhausted: { status: 507, retriable: false, doc: 'No free address or identifier is left in the pool.' },
  NotReady: { status: 503, retriable: true, doc: 'The component is starting or lost its peer; try again.' },
  Unsupported: { status: 501, retriable: false, doc: 'The kernel or this build does not support the operation.' },
  Datapath: { status: 500, retriable: true, doc: 'A kernel operation failed; the change was rolled back.' },
  Internal: { status: 500, retriable: true, doc: 'An unexpected error; see the controller log.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** One field-level problem: where (JSON pointer), what, and how to fix. */
export interface FieldIssue {
  path: string;
  message: string;
  value?: unknown;
  allowed?: string;
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  field?: string;
  details?: FieldIssue[];
  retriable: boolean;
}

/**
 * Marks a WeftError across copies of this module: the bundled CLI and the
 * modules it loads from dist/ each hold one, so `instanceof` cannot tell.
 */
const WEFT_ERROR = Symbol.for('weft.WeftError');

export class WeftError extends Error {
  readonly code: ErrorCode;
  readonly details: FieldIssue[];
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { field?: string; details?: FieldIssue[]; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'WeftError';
    this.code = code;
    this.details = opts.details ?? [];
    this.field = opts.field ?? this.details[0]?.path;
  }

  get [WEFT_ERROR](): true {
    return true;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }

  get retriable(): boolean {
    return ERROR_CATALOGUE[this.code].retriable;
  }

  toJSON(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message, retriable: this.retriable };
    if (this.field !== undefined) body.field = this.field;
    if (this.details.length > 0) body.details = this.details;
    return body;
  }

  static fromBody(body: ErrorBody): WeftError {
    const code = body.code in ERROR_CATALOGUE ? body.code : 'Internal';
    const opts: { field?: string; details?: FieldIssue[] } = {};
    if (body.field !== undefined) opts.field = body.field;
    if (body.details !== undefined) opts.details = body.details;
    return new WeftError(code, body.message, opts);
  }
}

/** Whether `v` (parsed JSON) is an error body as the API and the agent send them. */
export function isErrorBody(v: unknown): v is ErrorBody {
  return typeof v === 'object' && v !== null && typeof (v as ErrorBody).code === 'string' && typeof (v as ErrorBody).message === 'string';
}

export function isWeftError(e: unknown): e is WeftError {
  return typeof e === 'object' && e !== null && (e as { [WEFT_ERROR]?: unknown })[WEFT_ERROR] === true;
}

/** Narrow an unknown thrown value to a message, keeping WeftError text. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

export function invalid(details: FieldIssue[], what = 'request'): WeftError {
  const first = details[0];
  const summary = first ? `${first.path || '/'}: ${first.message}` : 'invalid';
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  return new WeftError('Invalid', `invalid ${what}: ${summary}${more}`, { details });
}
