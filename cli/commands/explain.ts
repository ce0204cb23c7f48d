// weft explain KIND[.field[.field...]] [--recursive]: the documentation of a
// kind or field (cli/explain-view.ts, loaded with the schemas when it runs).
import type { Command } from 'commander';
import { KIND_NAMES, KINDS } from '../../model/kind-names.js';

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('document a kind or one of its fields, from the schema the controller validates with')
    .argument('<kind.field>', `a kind (${KINDS.map((k) => KIND_NAMES[k].plural).join(', ')}, or their short names) and optionally a field path, e.g. network.spec.mtu`)
    .option('--recursive', 'list every nested field, not only the direct ones')
    .addHelpText('after', '\nExamples:\n  weft explain network\n  weft explain net.spec.mtu\n  weft explain endpoint.metadata.labels\n  weft explain host --recursive\n  weft explain firewallpolicy.spec.ingress.rules')
    .action(async (spec: string, flags: { recursive?: boolean }) => {
      const { renderExplain } = await import('../explain-view.js');
      process.stdout.write(renderExplain(spec, { recursive: flags.recursive === true }));
    });
}
