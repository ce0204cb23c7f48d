// weft apply -f FILE|DIR|- ...: validate every document locally, report
// every problem with its position, then apply all of them in one atomic
// request. Nothing is applied when anything is wrong. --prune removes, in
// the same request, what a selector / apply set holds and the files no
// longer do; --dry-run=server has the controller do all of it in a
// transaction it rolls back.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { isWeftError } from '../../model/errors.js';
import { resourceId } from '../../model/kind-names.js';
import { LABEL_VALUE_PATTERN } from '../../model/name-patterns.js';
import { APPLYSET_LABEL, type ApplyItemResult, type ApplyResult, type PrunedItem, type PruneRequest, type ResourceView } from '../../model/rest.js';
import type { ApplyOptions } from '../api-client.js';
import { CliError, usageError } from '../cli-error.js';
import { addClientOptions, apiClientFor } from '../client-options.js';
import { collect, collectLabels } from '../flags.js';
import { progress } from '../progress.js';
import type { LoadedResource, Problem } from '../resource-files.js';

/** Reading and validating files needs the schemas: loaded when a command reads files, not at start. */
const resourceFiles = () => import('../resource-files.js');

const DRY_RUN_MODES = ['none', 'client', 'server'] as const;
export type DryRunMode = (typeof DRY_RUN_MODES)[number];

/** --dry-run[=none|client|server]; a bare --dry-run means server (commander passes the preset through here). */
function parseDryRun(value: string): DryRunMode {
  if (!(DRY_RUN_MODES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`Use --dry-run=server (the controller validates and previews, nothing is stored), --dry-run=client (local checks only) or --dry-run=none`);
  }
  return value as DryRunMode;
}

function parseApplySetName(value: string): string {
  if (value === '' || value.length > 63 || !new RegExp(LABEL_VALUE_PATTERN).test(value)) {
    throw new InvalidArgumentError('Use 1-63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (it becomes a label value)');
  }
  return value;
}

export interface PruneFlags {
  prune?: boolean;
  selector?: Record<string, string>;
  applyset?: string;
  cascade?: boolean;
}

interface ApplyFlags extends PruneFlags {
  filename?: string[];
  dryRun?: DryRunMode;
}

/** --prune, -l, --applyset, --cascade: shared by apply and diff (which shows the deletions instead of making them). */
export function addPruneOptions(cmd: Command, prune = 'also delete the networks, declared endpoints and firewall policies that match -l / --applyset but are no longer in the files (same atomic request)'): Command {
  return cmd
    .option('--prune', prune)
    .option('-l, --selector <k=v>', 'with --prune: what may be deleted, resources carrying all these labels; repeatable, or k=v,k2=v2', collectLabels)
    .option('--applyset <name>', `with --prune: label every applied resource ${APPLYSET_LABEL}=NAME and delete the members of that set the files no longer hold`, parseApplySetName)
    .option('--cascade', 'with --prune: a pruned network takes its declared endpoints along (endpoints attached by a runtime still block it)');
}

/** The prune part of the request, or undefined; inconsistent flags are usage errors. */
export function pruneRequestFrom(flags: PruneFlags): PruneRequest | undefined {
  const selector = flags.selector ?? {};
  const hasSelector = Object.keys(selector).length > 0;
  if (!flags.prune) {
    const stray = [hasSelector && '-l', flags.applyset !== undefined && '--applyset', flags.cascade && '--cascade'].filter(Boolean);
    if (stray.length > 0) throw usageError(`${stray.join(', ')} only work${stray.length === 1 ? 's' : ''} with --prune`);
    return undefined;
  }
  if (!hasSelector && flags.applyset === undefined) {
    throw usageError('--prune needs -l KEY=VALUE or --applyset NAME to say what it may delete (without one it would delete everything not in the files)');
  }
  const req: PruneRequest = {};
  if (hasSelector) req.selector = selector;
  if (flags.applyset !== undefined) req.applyset = flags.applyset;
  if (flags.cascade) req.cascade = true;
  return req;
}

export async function problemsError(problems: Problem[], what: string): Promise<CliError> {
  const { formatProblem } = await resourceFiles();
  const files = new Set(problems.map((p) => p.file)).size;
  const n = problems.length;
  return new CliError(`${n} problem${n === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}; nothing was ${what}`, undefined, {
    lines: problems.map(formatProblem),
  });
}

/** Read and check the files; every problem at once, before any request. */
export async function loadForApply(paths: string[], what: string): Promise<LoadedResource[]> {
  if (paths.length === 0) throw usageError(`weft ${what === 'applied' ? 'apply' : 'diff'} needs -f FILE (a file, a directory, or - for stdin)`);
  const { loadResourceFiles, sortForApply } = await resourceFiles();
  const loaded = loadResourceFiles(paths);
  if (loaded.problems.length > 0) throw await problemsError(loaded.problems, what);
  if (loaded.resources.length === 0) throw new CliError(`no resources found in ${paths.join(', ')}`);
  return sortForApply(loaded.resources);
}

/**
 * The one POST /apply, with server errors mapped back to FILE:LINE:COL
 * where they point into an item. Errors about the prune (field /prune)
 * concern resources that are not in the files, so they are not located.
 */
export async function sendApply(command: Command, ordered: LoadedResource[], options: ApplyOptions, what: string): Promise<ApplyResult> {
  const client = apiClientFor(command);
  const p = progress();
  p.step(`${what === 'applied' ? 'applying' : 'comparing'} ${ordered.length} resource${ordered.length === 1 ? '' : 's'}`);
  try {
    return await client.apply(
      ordered.map((r) => r.resource),
      options,
    );
  } catch (e) {
    if (isWeftError(e)) {
      const { formatProblem, locateServerError } = await resourceFiles();
      const aboutPrune = e.field?.startsWith('/prune') === true;
      const located = aboutPrune
        ? undefined
        : locateServerError(
            e,
            ordered.map((r) => r.source),
          );
      if (located) throw new CliError(`${e.message}; nothing was ${what}`, undefined, { lines: located.map(formatProblem), cause: e });
      throw new CliError(`${e.message}; nothing was ${what}`, undefined, { cause: e });
    }
    throw e;
  } finally {
    p.done();
  }
}


/** Leaf values of a view as `labels.k` / `spec.f` -> value. */
function flatten(view: ResourceView | undefined): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(view?.metadata.labels ?? {})) out.set(`labels.${k}`, v);
  for (const [k, v] of Object.entries(view?.spec ?? {})) out.set(`spec.${k}`, v);
  return out;
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** What a server dry run says about one item: allocations of a new network, the changed fields of a configured resource. */
function dryRunDetail(r: ApplyItemResult): string {
  if (r.action === 'created' && r.kind === 'Network' && r.merged) {
    const s = r.merged.spec;
    const parts = [`vni ${show(s.vni)}`, `gateway ${show(s.gateway)}`];
    if (s.gateway6 !== undefined) parts.push(`gateway6 ${show(s.gateway6)}`);
    parts.push(`mtu ${show(s.mtu)}`);
    return `: ${parts.join(', ')}`;
  }
  if (r.action !== 'configured' || !r.merged) return '';
  const before = flatten(r.live);
  const after = flatten(r.merged);
  const changes: string[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(key);
    const b = after.get(key);
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    changes.push(a === undefined ? `${key} ${show(b)} (added)` : b === undefined ? `${key} ${show(a)} (removed)` : `${key} ${show(a)} -> ${show(b)}`);
  }
  return changes.length > 0 ? `: ${changes.join(', ')}` : '';
}

function prunedLine(p: PrunedItem, suffix = ''): string {
  const why = p.cascadeFrom !== undefined ? ` (cascade from network/${p.cascadeFrom})` : '';
  return `${resourceId(p)} pruned${why}${suffix}`;
}

/** A resource in the files that the prune selector does not match is applied, but a later prune will not remove it once it leaves the files. */
function warnUnselected(ordered: LoadedResource[], prune: PruneRequest | undefined): void {
  if (!prune?.selector) return;
  const selector = prune.selector;
  for (const { resource } of ordered) {
    if (resource.kind === 'Host') continue;
    const labels = resource.metadata.labels ?? {};
    if (Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
    const wanted = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
    process.stderr.write(`warning: ${resourceId({ kind: resource.kind, name: resource.metadata.name })} does not carry ${wanted}: a later --prune -l ${wanted} will not delete it once it leaves the files\n`);
  }
}

export function registerApply(program: Command): void {
  const cmd = program
    .command('apply')
    .description('create or update resources from YAML/JSON files (all documents, atomically); optionally prune what the files no longer hold')
    .option('-f, --filename <file>', 'file, directory (*.yaml, *.yml, *.json) or - for stdin; repeatable', collect)
    .addOption(
      new Option(
        '--dry-run [mode]',
        'server: the controller validates everything and shows what would happen (allocations, prunes), storing nothing; ' +
          'client: local checks only, nothing is sent; a bare --dry-run means server',
      )
        .preset('server')
        .argParser(parseDryRun),
    );
  addPruneOptions(cmd).action(async (flags: ApplyFlags, command: Command) => {
    const mode = flags.dryRun ?? 'none';
    const prune = pruneRequestFrom(flags);
    if (mode === 'client' && prune) throw usageError('--dry-run=client does not ask the controller, so it cannot say what --prune would delete: use --dry-run=server');
    const ordered = await loadForApply(flags.filename ?? [], 'applied');
    if (mode === 'client') {
      for (const r of ordered) process.stdout.write(`${resourceId({ kind: r.resource.kind, name: r.resource.metadata.name })} valid (client dry run)\n`);
      return;
    }
    warnUnselected(ordered, prune);
    const server = mode === 'server';
    const options: ApplyOptions = server ? { dryRun: true, diff: true } : {};
    if (prune) options.prune = prune;
    const response = await sendApply(command, ordered, options, 'applied');
    const suffix = server ? ' (server dry run)' : '';
    for (const r of response.results) process.stdout.write(`${resourceId(r)} ${r.action}${suffix}${server ? dryRunDetail(r) : ''}\n`);
    for (const p of response.pruned ?? []) process.stdout.write(`${prunedLine(p, suffix)}\n`);
  });
  addClientOptions(cmd);
}
