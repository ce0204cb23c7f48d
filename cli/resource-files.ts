// Reading resource documents for `weft apply` / `weft delete -f`: files,
// directories or stdin. Parsing and checking the text is model/resource-text.ts
// (shared with the web console); this module adds the file system and the
// request size check. Every problem is reported as FILE:LINE:COL: PATH:
// message, all of them at once, so a user fixes a file in one pass.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_BODY_BYTES } from '../model/rest.js';
import { parseDocuments, validateDocuments, type LoadedResource, type LoadResult, type Problem, type SourceDoc } from '../model/resource-text.js';

export {
  formatProblem, identifyDocuments, locateIssue, locateServerError, parseDocuments, quote, sortForApply, validateDocuments,
  type LoadedResource, type LoadResult, type Problem, type SourceDoc,
} from '../model/resource-text.js';

const STDIN_NAME = '<stdin>';

/** Expand -f arguments: files as given, directories to their *.yaml|*.yml|*.json files (sorted, not recursive). */
function expandPaths(paths: string[]): { files: string[]; problems: Problem[] } {
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
  const all = [...problems, ...validated.problems];
  if (all.length === 0) all.push(...requestSizeProblems(validated.resources));
  return { resources: validated.resources, problems: all, documents: docs.length };
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * The controller refuses request bodies over MAX_BODY_BYTES (413). Say so
 * before sending, naming the files and what each contributes, rather than
 * letting the user meet a bare 413 after a long upload.
 */
export function requestSizeProblems(resources: LoadedResource[], limit = MAX_BODY_BYTES): Problem[] {
  const perFile = new Map<string, number>();
  let total = '{"items":[]}'.length;
  for (const r of resources) {
    const bytes = Buffer.byteLength(JSON.stringify(r.resource)) + 1;
    total += bytes;
    perFile.set(r.source.file, (perFile.get(r.source.file) ?? 0) + bytes);
  }
  if (total <= limit) return [];
  const files = [...perFile].sort((a, b) => b[1] - a[1]);
  const shown = files
    .slice(0, 5)
    .map(([f, b]) => `${f} ${mib(b)}`)
    .join(', ');
  const more = files.length > 5 ? ` and ${files.length - 5} more files` : '';
  return [
    {
      file: (files[0] as [string, number])[0],
      message: `the apply request would be ${mib(total)} (${total} bytes) of JSON, over the controller's limit of ${mib(limit)} (${limit} bytes): ${shown}${more}`,
      allowed: `at most ${limit} bytes per apply; split the files into several applies`,
    },
  ];
}
