// The text of `weft explain KIND[.field[.field...]]`: the documentation of a
// kind or field, read from the exported JSON Schema (model/schema-export.ts),
// the same one the server validates with. Like kubectl explain.
import { KIND_NAMES, KINDS, kindFromName, type Kind } from '../model/kind-names.js';
import { API_VERSION } from '../model/meta.js';
import { exportKindSchema, type JsonObject, type JsonValue } from '../model/schema-export.js';
import { CliError } from './cli-error.js';
import { closestMatch } from '../model/did-you-mean.js';

const WIDTH = 80;

/** The closest option, if it is close enough to be a likely typo. */
export const closest = closestMatch;

/** A kind by any of the names `weft get` accepts, or exit 1 saying what exists. */
export function kindOrFail(name: string): Kind {
  const kind = kindFromName(name);
  if (kind) return kind;
  const names = KINDS.flatMap((k) => [k, KIND_NAMES[k].plural, ...KIND_NAMES[k].aliases]);
  const hint = closest(name, names);
  const guess = hint === undefined ? undefined : kindFromName(hint);
  const known = KINDS.map((k) => `${k} (${[KIND_NAMES[k].plural, ...KIND_NAMES[k].aliases].join(', ')})`).join('; ');
  throw new CliError(`unknown kind ${JSON.stringify(name)}${guess ? ` (did you mean "${guess}"?)` : ''}; the kinds are ${known}`);
}

const obj = (v: JsonValue | undefined): JsonObject | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined);

/** What a value of a map (patternProperties / additionalProperties schema) must be. */
function mapValue(node: JsonObject): JsonObject | undefined {
  const patterns = obj(node.patternProperties);
  if (patterns) return obj(Object.values(patterns)[0]);
  return obj(node.additionalProperties);
}

function isMap(node: JsonObject): boolean {
  return node.type === 'object' && node.properties === undefined && mapValue(node) !== undefined;
}

/** The constants of a const or a union of consts (typebox Literal / Union of Literals). */
function allowedValues(node: JsonObject): JsonValue[] | undefined {
  if (node.const !== undefined) return [node.const];
  if (Array.isArray(node.enum)) return node.enum;
  const anyOf = node.anyOf;
  if (Array.isArray(anyOf) && anyOf.length > 0 && anyOf.every((s) => obj(s)?.const !== undefined)) return anyOf.map((s) => (obj(s) as JsonObject).const as JsonValue);
  return undefined;
}

/** kubectl-style type names: string, integer, object, []object, map[string]string. */
export function typeName(node: JsonObject): string {
  const values = allowedValues(node);
  if (values) {
    const types = [...new Set(values.map((v) => (typeof v === 'number' && Number.isInteger(v) ? 'integer' : typeof v)))];
    return types.join('|');
  }
  const alternatives = Array.isArray(node.anyOf) ? node.anyOf.map((b) => obj(b)?.type) : [];
  if (alternatives.length > 0 && alternatives.every((t) => typeof t === 'string')) return [...new Set(alternatives)].join('|');
  if (node.type === 'array') return `[]${typeName(obj(node.items) ?? {})}`;
  if (isMap(node)) return `map[string]${typeName(mapValue(node) as JsonObject)}`;
  if (typeof node.type === 'string') return node.type;
  if (Array.isArray(node.type)) return node.type.join('|');
  return 'any';
}

/** The object whose fields a node shows: itself, its array items or its map values. */
function fieldsHolder(node: JsonObject): JsonObject | undefined {
  if (obj(node.properties)) return node;
  if (node.type === 'array') {
    const items = obj(node.items);
    return items ? fieldsHolder(items) : undefined;
  }
  if (isMap(node)) return fieldsHolder(mapValue(node) as JsonObject);
  return undefined;
}

interface Field {
  name: string;
  node: JsonObject;
  required: boolean;
}

function fieldsOf(node: JsonObject): Field[] {
  const holder = fieldsHolder(node);
  if (!holder) return [];
  const required = new Set(Array.isArray(holder.required) ? holder.required.map(String) : []);
  return Object.entries(obj(holder.properties) ?? {}).map(([name, n]) => ({ name, node: obj(n) ?? {}, required: required.has(name) }));
}

interface Target {
  kind: Kind;
  path: string[];
  node: JsonObject;
  required: boolean;
}

/** Walk KIND.a.b.c through the kind's schema; unknown steps exit 1 with the fields that exist. */
function resolveTarget(spec: string): Target {
  const [kindName = '', ...path] = spec.split('.');
  const kind = kindOrFail(kindName);
  let node = exportKindSchema(kind);
  let required = true;
  const walked: string[] = [kind];
  for (const step of path) {
    const fields = fieldsOf(node);
    const at = walked.join('.');
    if (fields.length === 0) throw new CliError(`${at} is of type ${typeName(node)} and has no fields, so ${JSON.stringify(step)} does not exist`);
    const field = fields.find((f) => f.name === step) ?? fields.find((f) => f.name.toLowerCase() === step.toLowerCase());
    if (!field) {
      const hint = closest(step, fields.map((f) => f.name));
      throw new CliError(
        `field ${JSON.stringify(step)} does not exist in ${at}${hint ? ` (did you mean "${hint}"?)` : ''}; its fields are ${fields.map((f) => f.name).join(', ')}`,
      );
    }
    node = field.node;
    required = field.required;
    walked.push(field.name);
  }
  return { kind, path: walked.slice(1), node, required };
}

function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** The constraint lines of a scalar (or of a map's keys and values). */
function constraints(node: JsonObject, prefix = ''): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const values = allowedValues(node);
  if (values) out.push([`${prefix}ALLOWED`, values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')]);
  if (typeof node.pattern === 'string') out.push([`${prefix}PATTERN`, node.pattern]);
  const [minL, maxL] = [node.minLength, node.maxLength];
  if (typeof minL === 'number' || typeof maxL === 'number') {
    out.push([`${prefix}LENGTH`, typeof minL === 'number' && typeof maxL === 'number' ? `${minL} to ${maxL}` : typeof maxL === 'number' ? `at most ${maxL}` : `at least ${String(minL)}`]);
  }
  const [min, max] = [node.minimum, node.maximum];
  if (typeof min === 'number' || typeof max === 'number') {
    out.push([`${prefix}RANGE`, typeof min === 'number' && typeof max === 'number' ? `${min} to ${max}` : typeof max === 'number' ? `<= ${max}` : `>= ${String(min)}`]);
  }
  if (node.default !== undefined) out.push([`${prefix}DEFAULT`, JSON.stringify(node.default)]);
  if (isMap(node)) {
    const keyPattern = obj(node.patternProperties) ? Object.keys(obj(node.patternProperties) as JsonObject)[0] : undefined;
    if (keyPattern !== undefined && keyPattern !== '^(.*)$') out.push([`${prefix}KEY PATTERN`, keyPattern]);
    const value = mapValue(node) as JsonObject;
    if (!fieldsHolder(value)) out.push(...constraints(value, 'VALUE '));
  }
  if (node.type === 'array') {
    const items = obj(node.items);
    if (items && !fieldsHolder(items)) out.push(...constraints(items, 'ITEM '));
  }
  return out;
}

function fieldLines(fields: Field[], recursive: boolean, depth: number): string[] {
  const indent = '  '.repeat(depth + 1);
  const nameW = Math.max(...fields.map((f) => f.name.length));
  const typeW = Math.max(...fields.map((f) => typeName(f.node).length + 2));
  const lines: string[] = [];
  for (const f of fields) {
    const type = `<${typeName(f.node)}>`;
    const values = allowedValues(f.node);
    const desc = typeof f.node.description === 'string' ? f.node.description : values ? `one of: ${values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}` : '';
    const cells = [f.name.padEnd(nameW), type.padEnd(typeW), (f.required ? '-required-' : '').padEnd(10), desc];
    lines.push((indent + cells.join('  ')).trimEnd());
    if (recursive) {
      const sub = fieldsOf(f.node);
      if (sub.length > 0) lines.push(...fieldLines(sub, true, depth + 1));
    }
  }
  return lines;
}

/** The text of `weft explain`. */
export function renderExplain(spec: string, opts: { recursive?: boolean } = {}): string {
  const t = resolveTarget(spec);
  const head: Array<[string, string]> = [
    ['KIND', t.kind],
    ['VERSION', API_VERSION],
  ];
  if (t.path.length > 0) head.push(['FIELD', t.path.join('.')]);
  head.push(['TYPE', typeName(t.node)]);
  if (t.path.length > 0) head.push(['REQUIRED', t.required ? 'yes' : 'no']);
  const label = (rows: Array<[string, string]>) => {
    const w = Math.max(...rows.map(([k]) => k.length)) + 2;
    return rows.map(([k, v]) => `${`${k}:`.padEnd(w)}${v}`);
  };
  const out = [...label(head), '', 'DESCRIPTION:'];
  const description = typeof t.node.description === 'string' ? t.node.description : '';
  out.push(...(description ? wrap(description, '  ') : ['  <no description>']));
  const limits = constraints(t.node);
  if (limits.length > 0) out.push('', ...label(limits));
  const fields = fieldsOf(t.node);
  if (fields.length > 0) out.push('', 'FIELDS:', ...fieldLines(fields, opts.recursive === true, 0));
  return `${out.join('\n')}\n`;
}
