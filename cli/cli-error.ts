// How the CLI ends: one `error: ...` line on stderr (after any per-item
// lines) and an exit status a script can branch on.
import { errorMessage } from '../model/errors.js';

export const EXIT_OK = 0;
/** User errors: validation, not found, conflicts, rejected requests. */
export const EXIT_USER = 1;
/** Usage: unknown command or option, malformed flag value. */
export const EXIT_USAGE = 2;
/** The controller could not be reached at all. */
export const EXIT_UNREACHABLE = 3;

/** Marks a CliError across copies of this module (the bundled CLI and what it loads from dist/). */
const CLI_ERROR = Symbol.for('weft.CliError');

export class CliError extends Error {
  readonly exitCode: number;
  /** Printed before the `error:` line, one per line (e.g. FILE:LINE:COL: ...). */
  readonly lines: string[];

  constructor(message: string, exitCode = EXIT_USER, opts: { lines?: string[]; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.lines = opts.lines ?? [];
  }

  get [CLI_ERROR](): true {
    return true;
  }
}

export function isCliError(e: unknown): e is CliError {
  return typeof e === 'object' && e !== null && (e as { [CLI_ERROR]?: unknown })[CLI_ERROR] === true;
}

export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}

export function exitCodeFor(e: unknown): number {
  if (isCliError(e)) return e.exitCode;
  return EXIT_USER;
}

/** The text to print for a failure: item lines first, then one `error:` line. */
export function formatFailure(e: unknown): string {
  const lines = isCliError(e) ? [...e.lines] : [];
  lines.push(`error: ${errorMessage(e)}`);
  return `${lines.join('\n')}\n`;
}
