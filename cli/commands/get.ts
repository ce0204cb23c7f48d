// weft get networks|endpoints|hosts|firewallpolicies [NAME] [-o json|yaml|wide] [-l k=v]
import type { Command } from 'commander';
import { KIND_NAMES, kindArgumentHelp, kindFromName, type Kind } from '../../model/kind-names.js';
import type { AnyResource } from '../../model/kinds.js';
import { usageError } from '../cli-error.js';
import { addClientOptions, apiClientFor } from '../client-options.js';
import { collectLabels, parseOutput, type OutputFormat } from '../flags.js';
import { matchesLabels, renderResourceTable } from '../resource-table.js';

interface GetFlags {
  output?: OutputFormat;
  selector?: Record<string, string>;
}

export function kindArgument(value: string): Kind {
  const kind = kindFromName(value);
  if (!kind) {
    const known = Object.values(KIND_NAMES)
      .map((n) => n.plural)
      .join(', ');
    throw usageError(`unknown resource type ${JSON.stringify(value)}: use one of ${known}`);
  }
  return kind;
}

/** JSON, or YAML (its library is loaded only when asked for). */
export async function formatObject(value: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  const { stringify } = await import('yaml');
  return stringify(value);
}

export function registerGet(program: Command): void {
  const cmd = program
    .command('get')
    .description('list resources, or show one')
    .argument('<kind>', kindArgumentHelp())
    .argument('[name]', 'one resource by name')
    .option('-o, --output <format>', 'json, yaml (the full object) or wide (more columns)', parseOutput)
    .option('-l, --selector <k=v>', 'only resources with these labels; repeatable, or k=v,k2=v2', collectLabels)
    .action(async (kindName: string, name: string | undefined, flags: GetFlags, command: Command) => {
      const kind = kindArgument(kindName);
      const selector = flags.selector ?? {};
      if (name !== undefined && Object.keys(selector).length > 0) throw usageError('give either a NAME or -l, not both');
      const client = apiClientFor(command);
      const out = flags.output;

      if (name !== undefined) {
        const item = await client.get(kind, name);
        process.stdout.write(out === 'json' || out === 'yaml' ? await formatObject(item, out) : renderResourceTable(kind, [item], out === 'wide'));
        return;
      }
      const list = await client.list(kind);
      const items: AnyResource[] = list.items.filter((r) => matchesLabels(r, selector));
      if (out === 'json' || out === 'yaml') {
        process.stdout.write(await formatObject({ ...list, items }, out));
        return;
      }
      if (items.length === 0) {
        process.stderr.write(`No ${KIND_NAMES[kind].plural} found.\n`);
        return;
      }
      process.stdout.write(renderResourceTable(kind, items, out === 'wide'));
    });
  addClientOptions(cmd);
}
