// Reading resource documents for `weft apply` / `weft delete -f`: files,
// directories or stdin, multi-document YAML (JSON is YAML too). Every
// problem is reported as FILE:LINE:COL: PATH: message, all of them at once,
// so a user fixes a file in one pass.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, isScalar, parseAllDocuments, type Document } from 'yaml';
import { isWeftError, type FieldIssue, type WeftError } from '../model/errors.js';
import { KINDS, MAC_PATTERN, type AnyResource, type Endpoint, type Kind, type NetworkSpec } from '../model/kinds.js';
import { checkEndpointSpec, checkNetworkSpec, checkShape, parseResource } from '../model/validate.js';
import { positionOf } from './yaml-position.js';

export const STDIN_NAME = '<stdin>';

export interface SourceDoc {
  /** File name as the user gave it (or <stdin>). */
  file: string;
  /** Index of the document within its file, from 0. */
  index: number;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  value: unknown;
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

/** Parse one file's text into its documents; syntax errors become problems with positions. */
export function parseDocuments(text: string, file: string): { docs: SourceDoc[]; problems: Problem[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const docs: SourceDoc[] = [];
  const problems: Problem[] = [];
  if (!Array.isArray(parsed)) return { docs, problems };
  parsed.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const pos = lineCounter.linePos(err.pos[0]);
        problems.push({ file, line: pos.line, col: pos.col, message: `YAML: ${err.message}` });
      }
      return;
    }
    if (isEmptyDocument(doc)) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      const pos = lineCounter.linePos(doc.range[0]);
      problems.push({ file, line: pos.line, col: pos.col, message: `YAML: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    docs.push({ file, index, doc, lineCounter, value });
  });
  return { docs, problems };
}

/** A field issue located in its source document. */
export function locateIssue(source: SourceDoc, issue: FieldIssue): Problem {
  const unknownField = issue.message.startsWith('unknown field');
  const pos = positionOf(source.doc, source.lineCounter, issue.path, unknownField);
  const p: Problem = { file: source.file, line: pos.line, col: pos.col, path: issue.path, message: issue.message };
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
        const at = positionOf(first.doc, first.lineCounter, '/metadata/name');
        const here = positionOf(source.doc, source.lineCounter, '/metadata/name');
        problems.push({
          file: source.file,
          line: here.line,
          col: here.col,
          path: '/metadata/name',
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

/** Expand -f arguments: files as given, directories to their *.yaml|*.yml|*.json files (sorted, not recursive). */
export function expandPaths(paths: string[]): { files: string[]; problems: Problem[] } {
  const files: string[] = [];
  const problems: Problem[] = [];
  for (const p of paths) {
    if (p === '-') {
      files.push(p);
      continue;
    }
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      problems.push({ file: p, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
      continue;
    }
    if (!isDir) {
      files.push(p);
      continue;
    }
    const entries = readdirSync(p)
      .filter((n) => /\.(ya?ml|json)$/i.test(n))
      .sort();
    if (entries.length === 0) problems.push({ file: p, message: 'the directory holds no .yaml, .yml or .json files' });
    files.push(...entries.map((n) => join(p, n)));
  }
  return { files, problems };
}

/** Read and parse every document of the given paths; syntax and read errors become problems. */
export function readDocuments(paths: string[], readStdin: () => string = () => readFileSync(0, 'utf8')): { docs: SourceDoc[]; problems: Problem[] } {
  const { files, problems } = expandPaths(paths);
  const docs: SourceDoc[] = [];
  let stdinUsed = false;
  for (const file of files) {
    let text: string;
    const name = file === '-' ? STDIN_NAME : file;
    try {
      if (file === '-') {
        if (stdinUsed) continue; // stdin can be read once
        stdinUsed = true;
        text = readStdin();
      } else {
        text = readFileSync(file, 'utf8');
      }
    } catch (e) {
      problems.push({ file: name, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
      continue;
    }
    const parsed = parseDocuments(text, name);
    docs.push(...parsed.docs);
    problems.push(...parsed.problems);
  }
  return { docs, problems };
}

export function loadResourceFiles(paths: string[], readStdin?: () => string): LoadResult {
  const { docs, problems } = readDocuments(paths, readStdin);
  const validated = validateDocuments(docs);
  return { resources: validated.resources, problems: [...problems, ...validated.problems], documents: docs.length };
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
    located.push(locateIssue(source, { ...issue, path: m ? (m[2] ?? '') : issue.path }));
  }
  return located;
}
