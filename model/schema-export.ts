// The JSON Schema documents of the kinds, for `weft schema`, the
// controller's /api/v1/schemas and editors (yaml-language-server). They are
// built from the very typebox objects model/validate.ts compiles, so what an
// editor checks and what the server accepts cannot drift apart: only the
// identification ($schema, $id, title) is added, and typebox's symbol-keyed
// internals are dropped so the result is plain JSON.
import type { TSchema } from '@sinclair/typebox';
import { KINDS, SCHEMAS, type Kind } from './kinds.js';
import { API_VERSION } from './meta.js';
import { COMBINED_SCHEMA_FILE, schemaFileName } from './schema-files.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** The dialect ajv validates with by default, and the one editors support best. */
export const JSON_SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';
const SCHEMA_BASE_URL = 'https://weft.dev/schemas/v1/';
export { COMBINED_SCHEMA_FILE, schemaFileName } from './schema-files.js';

export function schemaId(kind: Kind): string {
  return `${SCHEMA_BASE_URL}${schemaFileName(kind)}`;
}

/** A deep copy with only the JSON-visible parts: string keys, JSON values. */
export function toPlainJson(value: unknown): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${value} has no JSON form`);
    return value;
  }
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (typeof value === 'object') {
    const out: JsonObject = {};
    for (const key of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = toPlainJson(v);
    }
    return out;
  }
  throw new TypeError(`a ${typeof value} has no JSON form`);
}

/** The kind's schema as the server compiles it, minus typebox internals and its internal $id. */
function kindBody(kind: Kind): JsonObject {
  const { $id: _internalId, ...body } = toPlainJson(SCHEMAS[kind] as TSchema) as JsonObject;
  return body;
}

/** The standalone JSON Schema document of one kind (network.json, ...). */
export function exportKindSchema(kind: Kind): JsonObject {
  return { $schema: JSON_SCHEMA_DIALECT, $id: schemaId(kind), title: `${kind} (${API_VERSION})`, ...kindBody(kind) };
}

/**
 * One schema for every kind, for editors: `kind` selects the kind's schema
 * (if/then, so an editor reports the errors of that kind only, not of every
 * alternative as oneOf would). The kinds are embedded under definitions and
 * referenced by JSON pointer, so the file works offline and on its own.
 */
export function exportCombinedSchema(): JsonObject {
  const definitions: JsonObject = {};
  for (const kind of KINDS) definitions[kind] = { title: `${kind} (${API_VERSION})`, ...kindBody(kind) };
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: `${SCHEMA_BASE_URL}${COMBINED_SCHEMA_FILE}`,
    title: `weft resource (${API_VERSION})`,
    description: `Any weft resource: ${KINDS.join(', ')}. The kind field selects the schema.`,
    type: 'object',
    required: ['apiVersion', 'kind'],
    properties: {
      apiVersion: { const: API_VERSION, description: 'Version of the weft API.' },
      kind: { enum: [...KINDS], description: 'The kind of resource.' },
    },
    allOf: KINDS.map((kind) => ({
      if: { properties: { kind: { const: kind } }, required: ['kind'] },
      then: { $ref: `#/definitions/${kind}` },
    })),
    definitions,
  };
}

/** Every kind's document by file name, plus the combined one: what `weft schema --out DIR` writes. */
export function exportSchemaFiles(): Array<{ file: string; schema: JsonObject }> {
  return [...KINDS.map((kind) => ({ file: schemaFileName(kind), schema: exportKindSchema(kind) })), { file: COMBINED_SCHEMA_FILE, schema: exportCombinedSchema() }];
}
