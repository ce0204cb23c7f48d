// What `nft` refused, as a DatapathError (so callers keep asking isNotFound /
// isAlreadyExists / isUnsupported), carrying nft's own stderr. nft reports
// kernel refusals as "Could not process rule: <strerror>"; the strerror text
// is mapped back to an errno here and in no other place. The runner starts
// nft with LC_ALL=C, so these strings are the C locale's.
import { DatapathError } from '../errors.js';

// glibc's strerror texts for the errnos nft commonly reports.
const STRERROR: ReadonlyArray<readonly [string, string]> = [
  ['No such file or directory', 'ENOENT'],
  ['File exists', 'EEXIST'],
  ['Operation not permitted', 'EPERM'],
  ['Permission denied', 'EACCES'],
  ['Operation not supported', 'EOPNOTSUPP'],
  ['Protocol not supported', 'EPROTONOSUPPORT'],
  ['Address family not supported by protocol', 'EAFNOSUPPORT'],
  ['Device or resource busy', 'EBUSY'],
  ['No buffer space available', 'ENOBUFS'],
  ['Cannot allocate memory', 'ENOMEM'],
  ['Numerical result out of range', 'ERANGE'],
  ['Message too long', 'EMSGSIZE'],
  ['Too many open files', 'EMFILE'],
  ['Invalid argument', 'EINVAL'],
];

/** Longest stderr kept in the message; the full text stays on `stderr`. */
const MESSAGE_STDERR_MAX = 2000;

/**
 * The errno an nft failure stands for. Parse and evaluation errors carry no
 * strerror: they mean nft (or weft's rendering) found the input invalid, so
 * EINVAL.
 */
export function errnoFromNftStderr(stderr: string): string {
  for (const [text, errno] of STRERROR) {
    if (stderr.includes(text)) return errno;
  }
  return 'EINVAL';
}

export class NftError extends DatapathError {
  /** nft's stderr, untrimmed ('' when nft never ran) */
  readonly stderr: string;

  constructor(op: string, object: string, errno: string, stderr: string, options?: { cause?: unknown; detail?: string }) {
    super(op, object, errno, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NftError';
    this.stderr = stderr;
    const said = [options?.detail, squeeze(stderr)].filter((s): s is string => s !== undefined && s !== '').join(': ');
    if (said !== '') this.message = `${this.message}: ${said}`;
  }
}

/** nft's multi-line errors (message, echoed input, caret line) on one line, bounded. */
function squeeze(stderr: string): string {
  const one = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^\^+$/.test(l))
    .join(' | ');
  return one.length > MESSAGE_STDERR_MAX ? `${one.slice(0, MESSAGE_STDERR_MAX)}...` : one;
}
