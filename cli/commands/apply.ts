// weft apply -f FILE|DIR|- ...: validate every document locally, report
// every problem with its position, then apply all of them in one atomic
// request. Nothing is applied when anything is wrong.
import type { Command } from 'commander';
import { isWeftError } from '../../model/errors.js';
import { KINDS, type Kind } from '../../model/kinds.js';
import { CliError, usageError } from '../cli-error.js';
import { addClientOptions, apiClientFor } from '../client-options.js';
import { collect } from '../flags.js';
import { progress } from '../progress.js';
import { formatProblem, loadResourceFiles, locateServerError, type LoadedResource, type Problem } from '../resource-files.js';

interface ApplyFlags {
  filename?: string[];
  dryRun?: boolean;
}

/** Networks before hosts before endpoints, so a reader of the results sees dependencies first. */
function kindOrder(kind: Kind): number {
  return KINDS.indexOf(kind);
}

export function sortForApply(resources: LoadedResource[]): LoadedResource[] {
  return resources
    .map((r, i) => ({ r, i }))
    .sort((a, b) => kindOrder(a.r.resource.kind) - kindOrder(b.r.resource.kind) || a.i - b.i)
    .map(({ r }) => r);
}

export function problemsError(problems: Problem[], what: string): CliError {
  const files = new Set(problems.map((p) => p.file)).size;
  const n = problems.length;
  return new CliError(`${n} problem${n === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}; nothing was ${what}`, undefined, {
    lines: problems.map(formatProblem),
  });
}

export function registerApply(program: Command): void {
  const cmd = program
    .command('apply')
    .description('create or update resources from YAML/JSON files (all documents, atomically)')
    .option('-f, --filename <file>', 'file, directory (*.yaml, *.yml, *.json) or - for stdin; repeatable', collect)
    .option('--dry-run', 'validate on the server and show what would change, without changing anything')
    .action(async (flags: ApplyFlags, command: Command) => {
      const paths = flags.filename ?? [];
      if (paths.length === 0) throw usageError('weft apply needs -f FILE (a file, a directory, or - for stdin)');
      const loaded = loadResourceFiles(paths);
      if (loaded.problems.length > 0) throw problemsError(loaded.problems, 'applied');
      if (loaded.resources.length === 0) throw new CliError(`no resources found in ${paths.join(', ')}`);

      const ordered = sortForApply(loaded.resources);
      const client = apiClientFor(command);
      const p = progress();
      p.step(`applying ${ordered.length} resource${ordered.length === 1 ? '' : 's'}`);
      let response;
      try {
        response = await client.apply(
          ordered.map((r) => r.resource),
          flags.dryRun === true,
        );
      } catch (e) {
        if (isWeftError(e)) {
          const located = locateServerError(
            e,
            ordered.map((r) => r.source),
          );
          if (located) throw new CliError(`${e.message}; nothing was applied`, undefined, { lines: located.map(formatProblem), cause: e });
          throw new CliError(`${e.message}; nothing was applied`, undefined, { cause: e });
        }
        throw e;
      } finally {
        p.done();
      }
      const suffix = flags.dryRun ? ' (dry run)' : '';
      for (const r of response.results) process.stdout.write(`${r.kind.toLowerCase()}/${r.name} ${r.action}${suffix}\n`);
    });
  addClientOptions(cmd);
}
