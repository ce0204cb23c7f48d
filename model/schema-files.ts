// Names of the exported schema files, apart from the schemas themselves so
// that help text can name them without loading the schema library.
import type { Kind } from './kind-names.js';

/** File name of the schema that covers every kind, selected by `kind`. */
export const COMBINED_SCHEMA_FILE = 'weft.schema.json';

/** network.json, endpoint.json, host.json */
export function schemaFileName(kind: Kind): string {
  return `${kind.toLowerCase()}.json`;
}
