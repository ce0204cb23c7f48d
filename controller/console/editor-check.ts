// What the editor knows about its text: the resources `weft apply` would
// send (in the order it sends them) and every problem, with the character
// range the editor marks. Parsing and checks are the CLI's own
// (model/resource-text.ts), so the console and `weft apply` agree. Pure.
import type { WeftError } from '../../model/errors.js';
import { locateServerError, parseResourceText, sortForApply, type LoadedResource, type Problem } from '../../model/resource-text.js';

/** The name problems carry; the editor shows line and column, not this. */
export const EDITOR_FILE = 'editor';

export interface EditorProblem {
  problem: Problem;
  /** Range in the text to mark (from < to, unless the text is empty). */
  from: number;
  to: number;
  /** "7:8: /spec/mtu: must be integer ..." (describeProblem) */
  text: string;
}

export interface EditorCheck {
  /** In apply order: kinds as KINDS lists them, then as written (what the CLI does). */
  resources: LoadedResource[];
  problems: EditorProblem[];
  documents: number;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

/** A problem as `weft apply` prints it, without the file name (the editor has none): "7:8: /spec/mtu: must be integer, got string "big"". */
export function describeProblem(p: Problem): string {
  const where = p.line === undefined ? '' : `${p.line}:${p.col ?? 1}: `;
  const path = p.path === undefined ? '' : `${p.path === '' ? '/' : p.path}: `;
  const allowed = p.allowed ? ` (allowed: ${p.allowed})` : '';
  // Messages that point elsewhere in the text name the file ("first defined at editor:4:9").
  const message = p.message.replace(new RegExp(`\\b${EDITOR_FILE}:(\\d+):(\\d+)`, 'g'), 'line $1:$2');
  return `${where}${path}${message}${allowed}`;
}

/** Locate problems in the text: a mark from the position to the end of its line (at least one character). */
export function markProblems(text: string, problems: Problem[]): EditorProblem[] {
  const starts = lineStarts(text);
  return problems.map((problem) => {
    const line = Math.min(Math.max(problem.line ?? 1, 1), starts.length);
    const lineStart = starts[line - 1] ?? 0;
    const lineEnd = line < starts.length ? (starts[line] ?? text.length) - 1 : text.length;
    const from = Math.min(lineStart + Math.max((problem.col ?? 1) - 1, 0), lineEnd);
    const to = lineEnd > from ? lineEnd : Math.min(from + 1, text.length);
    return { problem, from: to > from ? from : Math.max(0, to - 1), to, text: describeProblem(problem) };
  });
}

export function checkEditorText(text: string): EditorCheck {
  const loaded = parseResourceText(text, EDITOR_FILE);
  return { resources: sortForApply(loaded.resources), problems: markProblems(text, loaded.problems), documents: loaded.documents };
}

/** A server error placed in the text, when its details point into the items sent (same rules as the CLI). */
export function markServerError(text: string, err: WeftError, sent: LoadedResource[]): EditorProblem[] {
  const located = locateServerError(
    err,
    sent.map((r) => r.source),
  );
  return located ? markProblems(text, located) : [];
}
