// weft schema [KIND] [-o json|yaml] [--out DIR]: the JSON Schema of the
// kinds from this build (no controller needed): the same documents the
// controller serves at /api/v1/schemas and validates with.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { KINDS } from '../../model/kind-names.js';
import { COMBINED_SCHEMA_FILE } from '../../model/schema-files.js';
import { CliError, usageError } from '../cli-error.js';
import { formatObject } from './get.js';

/** The schemas and the kind lookup that suggests a name, loaded only when the command runs. */
async function loadSchemas() {
  const [schemas, view] = await Promise.all([import('../../model/schema-export.js'), import('../explain-view.js')]);
  return { ...schemas, kindOrFail: view.kindOrFail };
}

type SchemaFormat = 'json' | 'yaml';

function parseSchemaFormat(value: string): SchemaFormat {
  const v = value.toLowerCase();
  if (v !== 'json' && v !== 'yaml') throw new InvalidArgumentError('Use one of: json, yaml');
  return v;
}

interface SchemaFlags {
  output?: SchemaFormat;
  out?: string;
}

/** Writes the schema files into dir; returns the paths written. */
async function writeSchemaFiles(dir: string, kindName?: string): Promise<string[]> {
  const { exportKindSchema, exportSchemaFiles, kindOrFail, schemaFileName } = await loadSchemas();
  const kind = kindName === undefined ? undefined : kindOrFail(kindName);
  const files = kind === undefined ? exportSchemaFiles() : [{ file: schemaFileName(kind), schema: exportKindSchema(kind) }];
  try {
    mkdirSync(dir, { recursive: true });
    const paths: string[] = [];
    for (const { file, schema } of files) {
      const path = join(dir, file);
      writeFileSync(path, await formatObject(schema, 'json'));
      paths.push(path);
    }
    return paths;
  } catch (e) {
    throw new CliError(`cannot write the schemas into ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, undefined, { cause: e });
  }
}

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of a kind (or of all kinds, selected by kind), or write them for an editor')
    .argument('[kind]', `${KINDS.map((k) => k.toLowerCase()).join(', ')} (plural and short names work); without it, the combined schema`)
    .option('-o, --output <format>', 'json (default) or yaml', parseSchemaFormat)
    .option('--out <dir>', `write one JSON file per kind and ${COMBINED_SCHEMA_FILE} into DIR instead of printing`)
    .addHelpText(
      'after',
      `\nFor yaml-language-server (VS Code, Neovim, ...): weft schema --out .weft/schemas, then start a YAML file with\n  # yaml-language-server: $schema=.weft/schemas/${COMBINED_SCHEMA_FILE}`,
    )
    .action(async (kindName: string | undefined, flags: SchemaFlags) => {
      if (flags.out !== undefined) {
        if (flags.output === 'yaml') throw usageError('--out writes JSON files; -o applies to printing only');
        for (const path of await writeSchemaFiles(flags.out, kindName)) process.stdout.write(`wrote ${path}\n`);
        return;
      }
      const { exportCombinedSchema, exportKindSchema, kindOrFail } = await loadSchemas();
      const schema = kindName === undefined ? exportCombinedSchema() : exportKindSchema(kindOrFail(kindName));
      process.stdout.write(await formatObject(schema, flags.output ?? 'json'));
    });
}
