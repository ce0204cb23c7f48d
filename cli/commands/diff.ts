// weft diff -f FILE|DIR|- ...: what `weft apply` would change, as a unified
// diff of each resource's YAML (labels and effective spec). The controller
// computes both sides in a dry-run apply, so its defaults (gateway, VNI,
// MTU) are on both and only real changes show; values it fills in carry a
// `# default` / `# allocated` comment.
//
// Exit status as `kubectl diff`: 0 no differences, 1 differences, >1 an
// error. 1 is the CLI's usual status for user errors (EXIT_USER), so here
// those become EXIT_DIFF_ERROR; usage (2) and unreachable (3) keep theirs.
import type { Command } from 'commander';
import { CliError, EXIT_UNREACHABLE, EXIT_USAGE, EXIT_USER, isCliError } from '../cli-error.js';
import { addClientOptions } from '../client-options.js';
import { collect } from '../flags.js';
import { addPruneOptions, loadForApply, pruneRequestFrom, sendApply, type PruneFlags } from './apply.js';

/** Differences found: not an error, but not "same" either (kubectl diff's 1). */
const EXIT_DIFF_CHANGES = 1;
/** Validation, conflict, not found, rejected, anything but usage or an unreachable controller. */
export const EXIT_DIFF_ERROR = 4;

interface DiffFlags extends PruneFlags {
  filename?: string[];
}

/** Errors that would end with status 1 must not read as "differences found". */
function asDiffError(e: unknown): unknown {
  if (isCliError(e)) {
    if (e.exitCode !== EXIT_USER) return e;
    return new CliError(e.message, EXIT_DIFF_ERROR, { lines: e.lines, cause: e.cause ?? e });
  }
  return new CliError(e instanceof Error ? e.message : String(e), EXIT_DIFF_ERROR, { cause: e });
}

export function registerDiff(program: Command, outcome: { exitCode: number }): void {
  const cmd = program
    .command('diff')
    .description('show what apply -f would change, per resource, as a unified diff against the live state (nothing is changed)')
    .option('-f, --filename <file>', 'file, directory (*.yaml, *.yml, *.json) or - for stdin; repeatable', collect);
  addPruneOptions(cmd, 'also show, as removed, the networks, declared endpoints and firewall policies that apply --prune would delete (they match -l / --applyset but are no longer in the files)')
    .addHelpText(
      'after',
      `\nExit status (as kubectl diff): 0 no differences, ${EXIT_DIFF_CHANGES} differences found, ${EXIT_USAGE} usage, ${EXIT_UNREACHABLE} controller unreachable, ` +
        `${EXIT_DIFF_ERROR} any other error (validation, conflict, refused prune).`,
    )
    .action(async (flags: DiffFlags, command: Command) => {
      try {
        const prune = pruneRequestFrom(flags);
        const ordered = await loadForApply(flags.filename ?? [], 'compared');
        const options = prune ? { dryRun: true, diff: true, prune } : { dryRun: true, diff: true };
        const response = await sendApply(command, ordered, options, 'compared');
        const { applyDiffs } = await import('../../model/resource-diff.js');
        const diffs = applyDiffs(response)
          .map((d) => d.diff)
          .filter((d) => d !== '');
        for (const d of diffs) process.stdout.write(d);
        outcome.exitCode = diffs.length > 0 ? EXIT_DIFF_CHANGES : 0;
      } catch (e) {
        throw asDiffError(e);
      }
    });
  addClientOptions(cmd);
}
