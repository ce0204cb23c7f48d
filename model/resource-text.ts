// Resource documents as text -> resources + problems, the pure part of
// `weft apply`: multi-document YAML (JSON is YAML too), every problem with
// its line and column, all of them at once, so a user fixes a text in one
// pass. No file system here: the CLI reads files (cli/resource-files.ts)
// and the web console its editor's text, and both report the same way.
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Document } from 'yaml';
import { isWeftError, type FieldIssue, type WeftError } from './errors.js';
import { KINDS, MAC_PATTERN, type AnyResource, type Endpoint, type Kind, type NetworkSpec } from './kinds.js';
import { checkFirewallPolicySpec } from './firewall-validate.js';
import { checkFirewallSpec } from './firewall-vnf-validate.js';
import { checkRouterSpec } from './router-validate.js';
import { checkEndpointSpec, checkNetworkSpec, checkShape, parseResource } from './validate.js';
import { API_VERSION } from './meta.js';
import { positionOf } from './yaml-position.js';

export interface SourceDoc {
  /** File name as the user gave it (or <stdin>). */
  file: string;
  /** Index of the document within its file, from 0. */
  index: number;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  value: unknown;
  /** JSON pointer of the resource inside the document: '' or, for an item of a List, /items/N. */
  base: string;
}

export interface Problem {
  file: string;
  line?: number;
  col?: number;
  /** JSON pointer inside the document; absent for syntax and file errors. */
  path?: string;
  message: string;
  allowed?: string;
}

export interface LoadedResource {
  resource: AnyResource;
  source: SourceDoc;
}

/** In apply order: networks before hosts before endpoints (KINDS order), so results show dependencies first; file order within a kind. */
export function sortForApply(resources: LoadedResource[]): LoadedResource[] {
  const order = (k: Kind) => KINDS.indexOf(k);
  return resources
    .map((r, i) => ({ r, i }))
    .sort((a, b) => order(a.r.resource.kind) - order(b.r.resource.kind) || a.i - b.i)
    .map(({ r }) => r);
}

export interface LoadResult {
  resources: LoadedResource[];
  problems: Problem[];
  /** Number of non-empty documents read. */
  documents: number;
}

export function formatProblem(p: Problem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.col ?? 1}`;
  const path = p.path === undefined ? '' : `${p.path === '' ? '/' : p.path}: `;
  const allowed = p.allowed ? ` (allowed: ${p.allowed})` : '';
  return `${where}: ${path}${p.message}${allowed}`;
}

function isEmptyDocument(doc: Document.Parsed): boolean {
  const c = doc.contents;
  // A zero-length null scalar: a trailing `---` or a comment-only document.
  return c === null || (isScalar(c) && c.value === null && c.range !== undefined && c.range !== null && c.range[0] === c.range[1]);
}

/**
 * A syntax error as the user should read it. The yaml package reports a
 * document nested too deeply for its recursive composer as a stack overflow.
 */
function syntaxMessage(message: string): string {
  if (/Maximum call stack size exceeded/.test(message)) {
    return 'YAML: nesting is too deep to read (it stops here); weft resources nest a few levels at most';
  }
  return `YAML: ${message}`;
}

/**
 * Keys that appear twice in one mapping. The yaml package's own uniqueKeys
 * check compares every key with every earlier one, which takes minutes on a
 * mapping of 100,000 keys; a set per mapping does the same in linear time.
 */
function structureProblems(doc: Document.Parsed, lineCounter: LineCounter, file: string): Problem[] {
  const problems: Problem[] = [];
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Map<string, unknown>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key !== undefined) {
          const first = seen.get(key);
          if (first !== undefined) {
            const at = lineCounter.linePos(nodeStart(pair.key) ?? 0);
            const was = lineCounter.linePos(nodeStart(first) ?? 0);
            problems.push({ file, line: at.line, col: at.col, message: `YAML: duplicate key ${quote(key)} in one mapping (first at line ${was.line}, column ${was.col})` });
          } else {
            seen.set(key, pair.key);
          }
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item); // not push(...items): a huge sequence overflows the call stack
    } else if (isAlias(node) && node.resolve(doc) === undefined) {
      const at = lineCounter.linePos(nodeStart(node) ?? 0);
      problems.push({ file, line: at.line, col: at.col, message: `YAML: alias *${node.source} refers to no anchor &${node.source} defined before it` });
    }
  }
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

function nodeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] | null } | null)?.range;
  return range ? range[0] : undefined;
}

/**
 * The parser notices an unclosed quote or flow collection where it gives
 * up, often lines later; the user needs the place it was opened.
 */
function unclosedOpener(text: string, message: string, offset: number): { offset: number; char: string } | undefined {
  const char = /^Missing closing "quote/.test(message)
    ? '"'
    : /^Missing closing 'quote/.test(message)
      ? "'"
      : /end with a \}/.test(message)
        ? '{'
        : /end with a \]/.test(message)
          ? '['
          : undefined;
  if (char === undefined) return undefined;
  const at = text.lastIndexOf(char, Math.max(0, offset - 1));
  return at < 0 ? undefined : { offset: at, char };
}

/** Parse one file's text into its documents; syntax errors become problems with positions. */
export function parseDocuments(text: string, file: string): { docs: SourceDoc[]; problems: Problem[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const docs: SourceDoc[] = [];
  const problems: Problem[] = [];
  if (!Array.isArray(parsed)) return { docs, problems };
  parsed.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      let tooDeep = false;
      for (const err of doc.errors) {
        // One overflow can surface at several frames as the composer unwinds
        // (how many depends on the stack left): the user needs the first.
        const overflow = /Maximum call stack size exceeded/.test(err.message);
        if (overflow && tooDeep) continue;
        tooDeep ||= overflow;
        const opener = unclosedOpener(text, err.message, err.pos[0]);
        const pos = lineCounter.linePos(opener?.offset ?? err.pos[0]);
        const message = syntaxMessage(err.message) + (opener ? `; the ${opener.char} here is never closed` : '');
        problems.push({ file, line: pos.line, col: pos.col, message });
      }
      return;
    }
    if (isEmptyDocument(doc)) return;
    const dups = structureProblems(doc, lineCounter, file);
    if (dups.length > 0) {
      problems.push(...dups);
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      const pos = lineCounter.linePos(doc.range[0]);
      problems.push({ file, line: pos.line, col: pos.col, message: syntaxMessage(e instanceof Error ? e.message : String(e)) });
      return;
    }
    const source: SourceDoc = { file, index, doc, lineCounter, value, base: '' };
    const list = expandList(source);
    if (list) {
      docs.push(...list.items);
      problems.push(...list.problems);
    } else {
      docs.push(source);
    }
  });
  return { docs, problems };
}

const LIST_FIELDS = ['apiVersion', 'kind', 'metadata', 'revision', 'items'];
/** List, NetworkList, EndpointList, ...: one per kind. */
const LIST_KINDS: string[] = ['List', ...KINDS.map((k) => `${k}List`)];

/**
 * A List document (what `weft get KIND -o yaml` prints: NetworkList,
 * FirewallPolicyList, ..., or a generic List) stands for its items, so the
 * output of get applies as it is. Returns undefined for anything that is not a List.
 */
function expandList(source: SourceDoc): { items: SourceDoc[]; problems: Problem[] } | undefined {
  const v = source.value;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const list = v as Record<string, unknown>;
  if (typeof list.kind !== 'string' || !LIST_KINDS.includes(list.kind)) return undefined;
  const itemKind = list.kind.slice(0, -'List'.length);
  const issues: FieldIssue[] = [];
  if (list.apiVersion !== API_VERSION) {
    issues.push({ path: '/apiVersion', message: list.apiVersion === undefined ? 'required field "apiVersion" is missing' : `unsupported apiVersion ${quote(list.apiVersion)}`, allowed: API_VERSION });
  }
  for (const key of Object.keys(list)) {
    if (!LIST_FIELDS.includes(key)) issues.push({ path: `/${escapePointer(key)}`, message: `unknown field "${key}" in a ${list.kind}`, allowed: LIST_FIELDS.join(', ') });
  }
  if (!Array.isArray(list.items)) {
    issues.push({ path: '/items', message: list.items === undefined ? 'required field "items" is missing' : `must be an array of resources, got ${typeName(list.items)}` });
  }
  const items: SourceDoc[] = [];
  if (Array.isArray(list.items)) {
    list.items.forEach((item: unknown, i: number) => {
      const kind = (item as { kind?: unknown } | null)?.kind;
      if (itemKind !== '' && typeof kind === 'string' && kind !== itemKind && (KINDS as readonly string[]).includes(kind)) {
        issues.push({ path: `/items/${i}/kind`, message: `a ${list.kind} holds ${itemKind} resources, not ${kind}`, allowed: itemKind });
        return;
      }
      items.push({ ...source, value: item, base: `/items/${i}` });
    });
  }
  return { items, problems: issues.map((issue) => locateIssue(source, issue)) };
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** A value for a message, cut short: a 5 MB string must not become a 5 MB error line. */
export function quote(v: unknown, max = 60): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A field issue located in its source document. */
export function locateIssue(source: SourceDoc, issue: FieldIssue): Problem {
  const unknownField = /^(unknown field|label key|port set name)/.test(issue.message);
  const path = `${source.base}${issue.path}`;
  const pos = positionOf(source.doc, source.lineCounter, path, unknownField);
  const p: Problem = { file: source.file, line: pos.line, col: pos.col, path, message: issue.message };
  if (issue.allowed !== undefined) p.allowed = issue.allowed;
  return p;
}

function identity(value: unknown): { kind: string; name: string } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { kind?: unknown; metadata?: { name?: unknown } };
  if (typeof v.kind !== 'string' || typeof v.metadata?.name !== 'string') return undefined;
  return { kind: v.kind, name: v.metadata.name };
}

/** Top to bottom, the way a user fixes a file. */
function inReadingOrder(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/** Semantic checks on just the well-typed fields of a document that failed its shape check. */
function semanticIssues(value: unknown): FieldIssue[] {
  const v = value as { kind?: unknown; spec?: unknown } | null;
  if (typeof v !== 'object' || v === null || typeof v.spec !== 'object' || v.spec === null) return [];
  const spec = v.spec as Record<string, unknown>;
  const str = (k: string) => (typeof spec[k] === 'string' ? (spec[k] as string) : undefined);
  if (v.kind === 'Network') {
    const subnet = str('subnet');
    if (subnet === undefined) return [];
    const clean: NetworkSpec = { subnet };
    for (const k of ['gateway', 'subnet6', 'gateway6'] as const) {
      const text = str(k);
      if (text !== undefined) clean[k] = text;
    }
    if (Number.isInteger(spec.blockSize)) clean.blockSize = spec.blockSize as number;
    return checkNetworkSpec(clean).issues;
  }
  if (v.kind === 'Endpoint') {
    const ep = { spec: {} as Record<string, string> };
    for (const k of ['ip', 'mac'] as const) {
      const text = str(k);
      if (text !== undefined && (k !== 'mac' || new RegExp(MAC_PATTERN).test(text))) ep.spec[k] = text;
    }
    return checkEndpointSpec(ep as unknown as Endpoint);
  }
  // Its checks read every field defensively, so the raw spec will do.
  if (v.kind === 'FirewallPolicy') return checkFirewallPolicySpec(spec);
  if (v.kind === 'Firewall') return checkFirewallSpec(spec);
  if (v.kind === 'Router') return checkRouterSpec(spec);
  return [];
}

/** Validate every document locally (shape and semantics) and find duplicates across the whole set. */
export function validateDocuments(docs: SourceDoc[]): { resources: LoadedResource[]; problems: Problem[] } {
  const resources: LoadedResource[] = [];
  const problems: Problem[] = [];
  const seen = new Map<string, SourceDoc>();
  for (const source of docs) {
    const id = identity(source.value);
    if (id) {
      const key = `${id.kind}/${id.name}`;
      const first = seen.get(key);
      if (first) {
        const at = positionOf(first.doc, first.lineCounter, `${first.base}/metadata/name`);
        const here = positionOf(source.doc, source.lineCounter, `${source.base}/metadata/name`);
        problems.push({
          file: source.file,
          line: here.line,
          col: here.col,
          path: `${source.base}/metadata/name`,
          message: `duplicate ${id.kind} "${id.name}": first defined at ${first.file}:${at.line}:${at.col}`,
        });
        continue;
      }
      seen.set(key, source);
    }
    const shape = checkShape(source.value);
    if (shape.issues.length > 0) {
      // parseResource stops at shape errors; run the semantic checks on the
      // fields that are well-formed too, so one pass shows every problem.
      const flagged = new Set(shape.issues.map((i) => i.path));
      const extra = semanticIssues(source.value).filter((i) => !flagged.has(i.path));
      problems.push(...inReadingOrder([...shape.issues, ...extra].map((issue) => locateIssue(source, issue))));
      continue;
    }
    try {
      resources.push({ resource: parseResource(source.value, `${id ? `${id.kind.toLowerCase()}/${id.name}` : 'document'}`), source });
    } catch (e) {
      if (!isWeftError(e)) throw e;
      const details = e.details.length > 0 ? e.details : [{ path: '', message: e.message }];
      problems.push(...inReadingOrder(details.map((issue) => locateIssue(source, issue))));
    }
  }
  return { resources, problems };
}

/** Kind and name of each document, for delete -f: the spec does not matter there. */
export function identifyDocuments(docs: SourceDoc[]): { targets: { kind: Kind; name: string; source: SourceDoc }[]; problems: Problem[] } {
  const targets: { kind: Kind; name: string; source: SourceDoc }[] = [];
  const problems: Problem[] = [];
  for (const source of docs) {
    const v = (typeof source.value === 'object' && source.value !== null ? source.value : {}) as { kind?: unknown; metadata?: { name?: unknown } };
    const kind = KINDS.find((k) => k === v.kind);
    if (!kind) {
      problems.push(locateIssue(source, { path: '/kind', message: v.kind === undefined ? 'required field "kind" is missing' : `unknown kind ${JSON.stringify(v.kind)}`, allowed: KINDS.join(', ') }));
      continue;
    }
    const name = v.metadata?.name;
    if (typeof name !== 'string' || name === '') {
      problems.push(locateIssue(source, { path: '/metadata/name', message: 'required field "name" is missing' }));
      continue;
    }
    targets.push({ kind, name, source });
  }
  return { targets, problems };
}

/**
 * Locate a server-side error in the files: issues whose path starts with
 * /items/N belong to the N-th item sent; with one item, every issue does.
 * Returns undefined when nothing could be placed.
 */
export function locateServerError(err: WeftError, sent: SourceDoc[]): Problem[] | undefined {
  const issues: FieldIssue[] = err.details.length > 0 ? err.details : err.field !== undefined ? [{ path: err.field, message: err.message }] : [];
  if (issues.length === 0) {
    const only = sent.length === 1 ? sent[0] : undefined;
    return only ? [locateIssue(only, { path: '', message: err.message })] : undefined;
  }
  const located: Problem[] = [];
  for (const issue of issues) {
    const m = /^\/items\/(\d+)(\/.*)?$/.exec(issue.path);
    const source = m ? sent[Number(m[1])] : sent.length === 1 ? sent[0] : undefined;
    if (!source) return undefined;
    const path = m ? (m[2] ?? '') : issue.path;
    // issue.value is the value the server saw, except in conflict details, where it is the stored one: show the user's own.
    const value = issue.message.startsWith('is ') && issue.value !== undefined ? issue.value : valueAt(source.value, `${source.base}${path}`.slice(source.base.length));
    located.push(locateIssue(source, { ...issue, path, message: withValue(issue.message, value) }));
  }
  return located;
}

function valueAt(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const raw of pointer === '' ? [] : pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

/** Server messages sometimes leave out the value they are about ("is outside network ..."): put it in. */
function withValue(message: string, value: unknown): string {
  if (value === undefined || value === null || typeof value === 'object') return message;
  const text = String(value);
  if (message.includes(text)) return message;
  return message.startsWith('is ') ? `${text.length > 60 ? quote(text) : text} ${message}` : `${message} (got ${quote(value)})`;
}

/** Parse and validate one text (an editor's buffer, one file) the way `weft apply` does, without sending anything. */
export function parseResourceText(text: string, file: string): LoadResult {
  const parsed = parseDocuments(text, file);
  const validated = validateDocuments(parsed.docs);
  return { resources: validated.resources, problems: [...parsed.problems, ...validated.problems], documents: parsed.docs.length };
}
