// weft delete KIND NAME | weft delete -f FILE...
import type { Command } from 'commander';
import { isWeftError } from '../../model/errors.js';
import { KINDS, type Kind } from '../../model/kind-names.js';
import { CliError, usageError } from '../cli-error.js';
import { addClientOptions, apiClientFor } from '../client-options.js';
import { collect } from '../flags.js';
import { kindArgument } from './get.js';
import { problemsError } from './apply.js';

/** Hosts are created by their agents and have no DELETE in the API. */
const DELETABLE: Kind[] = ['Network', 'Endpoint', 'FirewallPolicy', 'Firewall', 'Router'];

interface DeleteFlags {
  filename?: string[];
  ignoreNotFound?: boolean;
}

/** Targets named in files: only kind and metadata.name matter, so a bad spec does not block a delete. */
async function targetsFromFiles(paths: string[]): Promise<{ kind: Kind; name: string }[]> {
  const { identifyDocuments, readDocuments } = await import('../resource-files.js');
  const read = readDocuments(paths);
  const identified = identifyDocuments(read.docs);
  const problems = [...read.problems, ...identified.problems];
  if (problems.length > 0) throw await problemsError(problems, 'deleted');
  if (identified.targets.length === 0) throw new CliError(`no resources found in ${paths.join(', ')}`);
  const seen = new Set<string>();
  return identified.targets.filter((t) => !seen.has(`${t.kind}/${t.name}`) && seen.add(`${t.kind}/${t.name}`));
}

export function registerDelete(program: Command): void {
  const cmd = program
    .command('delete')
    .description('delete a network, endpoint or firewall policy by name, or everything named in files')
    .argument('[kind]', 'networks, endpoints or firewallpolicies')
    .argument('[name]', 'name of the resource')
    .option('-f, --filename <file>', 'delete the resources these files define (file, directory or -); repeatable', collect)
    .option('--ignore-not-found', 'treat a resource that does not exist as deleted')
    .action(async (kindName: string | undefined, name: string | undefined, flags: DeleteFlags, command: Command) => {
      const files = flags.filename ?? [];
      let targets: { kind: Kind; name: string }[];
      if (files.length > 0) {
        if (kindName !== undefined) throw usageError('give either KIND NAME or -f FILE, not both');
        // Endpoints first: a network with endpoints on it cannot go.
        targets = (await targetsFromFiles(files)).sort((a, b) => KINDS.indexOf(b.kind) - KINDS.indexOf(a.kind));
      } else {
        if (kindName === undefined || name === undefined) throw usageError('weft delete needs KIND NAME (e.g. weft delete network blue) or -f FILE');
        targets = [{ kind: kindArgument(kindName), name }];
      }
      for (const t of targets) {
        if (!DELETABLE.includes(t.kind)) throw usageError(`${t.kind.toLowerCase()}s cannot be deleted: a host goes away when its agent stops (delete works on networks, endpoints, firewallpolicies and firewalls)`);
      }
      const client = apiClientFor(command);
      const failures: string[] = [];
      for (const t of targets) {
        const id = `${t.kind.toLowerCase()}/${t.name}`;
        try {
          await client.delete(t.kind, t.name);
          process.stdout.write(`${id} deleted\n`);
        } catch (e) {
          if (isWeftError(e) && e.code === 'NotFound' && flags.ignoreNotFound) continue;
          // An unreachable controller and the like: stop now. One target: its error is the whole story.
          if (!isWeftError(e) || targets.length === 1) throw e;
          failures.push(`${id}: ${e.message}`);
        }
      }
      if (failures.length > 0) throw new CliError(`${failures.length} of ${targets.length} deletes failed`, undefined, { lines: failures });
    });
  addClientOptions(cmd);
}
