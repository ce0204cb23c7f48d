// CNI errors: the spec's error object ({cniVersion, code, msg, details}),
// and the one place that maps weft's error catalogue onto CNI codes.
import { isWeftError, type ErrorCode, type FieldIssue, type WeftError } from '../errors.js';
import { CNI_CODE, type CniErrorResult } from './cni-types.js';

/** A failure to report to the runtime as the spec's error object (stdout, exit 1). */
export class CniError extends Error {
  readonly code: number;
  /** Short: what failed. */
  readonly msg: string;
  /** Long: where, why and how to fix. */
  readonly details: string | undefined;

  constructor(code: number, msg: string, details?: string, opts: { cause?: unknown } = {}) {
    super(details ? `${msg}: ${details}` : msg, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CniError';
    this.code = code;
    this.msg = msg;
    this.details = details || undefined;
  }
}

export function renderCniError(cniVersion: string, e: CniError): CniErrorResult {
  const out: CniErrorResult = { cniVersion, code: e.code, msg: e.msg };
  if (e.details !== undefined) out.details = e.details;
  return out;
}

/** The request fields a weft Invalid error can blame that the runtime passes as environment variables. */
const ENV_OF_FIELD: Record<string, string> = { containerId: 'CNI_CONTAINERID', netns: 'CNI_NETNS', ifname: 'CNI_IFNAME' };

/** `/params/ifname` -> CNI_IFNAME; undefined when the path names no environment-borne field. */
function envVarOf(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const last = path.split(/[/.]/).pop() ?? '';
  return Object.hasOwn(ENV_OF_FIELD, last) ? ENV_OF_FIELD[last] : undefined;
}

function formatIssue(i: FieldIssue): string {
  const extra: string[] = [];
  if (i.value !== undefined) extra.push(`value: ${truncatedJson(i.value)}`);
  if (i.allowed !== undefined) extra.push(`allowed: ${i.allowed}`);
  const where = i.path || '/';
  return `${where}: ${i.message}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`;
}

/** JSON text of a value, cut to about `max` characters for messages. */
export function truncatedJson(v: unknown, max = 80): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** Short CNI messages per weft code; Invalid depends on the blamed field, so it is chosen below. */
const SHORT: Record<Exclude<ErrorCode, 'Invalid'>, { code: number; msg: string }> = {
  NotReady: { code: CNI_CODE.TryAgainLater, msg: 'weft is not ready, try again later' },
  BadJSON: { code: CNI_CODE.DecodeFailure, msg: 'failed to decode the request' },
  TooLarge: { code: CNI_CODE.IoFailure, msg: 'the request is too large' },
  NotFound: { code: CNI_CODE.InvalidConfig, msg: 'the configuration names something weft does not have' },
  AddressInUse: { code: CNI_CODE.AddressInUse, msg: 'the requested address is in use' },
  Exhausted: { code: CNI_CODE.Exhausted, msg: 'no free address is left' },
  Conflict: { code: CNI_CODE.Conflict, msg: 'conflicts with an existing attachment' },
  AlreadyExists: { code: CNI_CODE.Conflict, msg: 'the attachment already exists' },
  Datapath: { code: CNI_CODE.Internal, msg: 'a kernel operation failed' },
  Internal: { code: CNI_CODE.Internal, msg: 'weft internal error' },
  Unsupported: { code: CNI_CODE.Internal, msg: 'not supported by this kernel or build' },
  Unauthorized: { code: CNI_CODE.Internal, msg: 'weft refused the request' },
  Overlap: { code: CNI_CODE.Internal, msg: 'overlapping subnets' },
};

/**
 * A weft error as the CNI error the runtime sees. `details` keeps the weft
 * message, every field issue and the weft code name, so nothing is lost.
 */
export function cniErrorFromWeft(e: WeftError): CniError {
  const parts = [e.message, ...e.details.map(formatIssue)];
  const details = `${parts.join('; ')} (weft error ${e.code})`;
  if (e.code === 'Invalid') {
    const vars = [...new Set([e.field, ...e.details.map((i) => i.path)].map(envVarOf).filter((v): v is string => v !== undefined))];
    if (vars.length > 0) return new CniError(CNI_CODE.InvalidEnv, `invalid ${vars.join(', ')}`, details, { cause: e });
    return new CniError(CNI_CODE.InvalidConfig, 'invalid network configuration', details, { cause: e });
  }
  const s = Object.hasOwn(SHORT, e.code) ? SHORT[e.code] : { code: CNI_CODE.Internal, msg: 'weft internal error' };
  return new CniError(s.code, s.msg, details, { cause: e });
}

/** Any thrown value as a CniError: CniError as is, WeftError mapped, anything else code 100. */
export function toCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (isWeftError(e)) return cniErrorFromWeft(e);
  return new CniError(CNI_CODE.Internal, 'weft internal error', e instanceof Error ? e.message : String(e), { cause: e });
}
