// Label selectors as Kubernetes writes them, equality-based:
// "app=web,tier!=db,canary,!legacy" (k=v, k==v, k!=v, k exists, !k absent).
// One grammar for the API (controller/status/label-selector.ts turns a
// refusal into a WeftError) and the browser console's filter box
// (controller/console/filters.ts), which may import model/ only. Pure.
//
// Named parseLabelSelectorTerms rather than parseLabelSelector: that name
// is the controller's predicate builder, which its routes already call.

export type LabelTerm =
  /** '=' (also written '==') has the value; '!=' does not, and an absent label counts as different. */
  | { key: string; op: '=' | '!='; value: string }
  /** 'exists' carries the key at all; 'absent' ("!key") does not. */
  | { key: string; op: 'exists' | 'absent' };

/** Why a term was refused: its shape, its key, its value, or nothing between two commas. */
export type LabelTermProblem = 'syntax' | 'key' | 'value' | 'empty';

export type LabelSelectorParse =
  | { ok: true; terms: LabelTerm[] }
  /** The first bad term, trimmed, and why it is bad. */
  | { ok: false; term: string; problem: LabelTermProblem; message: string };

export interface LabelSelectorOptions {
  /** Skip empty terms ("a=b,", " ") instead of refusing them: for a box that is typed into. */
  skipEmpty?: boolean;
}

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
/** "!"?, the key (no "=" or "!"), then maybe an operator and the value. The key may be empty here so that "=x" is a bad key. */
const TERM = /^(!?)([^=!]*?)\s*(?:(==|=|!=)\s*(.*))?$/;

type Refusal = { problem: LabelTermProblem; message: string };

const SYNTAX: Refusal = { problem: 'syntax', message: 'a term is key=value, key!=value, key or !key' };
/** "!key=value" means nothing; "key!=value" is the way to say it. */
const NEGATED_VALUE: Refusal = { problem: 'syntax', message: '"!key" takes no value; to exclude one value write key!=value' };
const BAD_KEY: Refusal = { problem: 'key', message: 'a label key is letters, digits, "-", "_", "." and "/"' };
const BAD_VALUE: Refusal = { problem: 'value', message: 'a label value is letters, digits, "-", "_" and "."' };
const EMPTY: Refusal = { problem: 'empty', message: 'a term is empty' };

export function parseLabelSelectorTerms(text: string, opts: LabelSelectorOptions = {}): LabelSelectorParse {
  const terms: LabelTerm[] = [];
  for (const raw of text.split(',')) {
    const term = raw.trim();
    if (term === '' && opts.skipEmpty) continue;
    const parsed = parseTerm(term);
    if ('problem' in parsed) return { ok: false, term, ...parsed };
    terms.push(parsed);
  }
  return { ok: true, terms };
}

function parseTerm(term: string): LabelTerm | Refusal {
  if (term === '') return EMPTY;
  const m = TERM.exec(term);
  if (!m) return SYNTAX;
  const negated = m[1] === '!';
  const key = (m[2] ?? '').trim();
  const op = m[3];
  if (!KEY.test(key)) return BAD_KEY;
  if (op === undefined) return { key, op: negated ? 'absent' : 'exists' };
  if (negated) return NEGATED_VALUE;
  const value = (m[4] ?? '').trim();
  if (!VALUE.test(value)) return BAD_VALUE;
  return { key, op: op === '!=' ? '!=' : '=', value };
}

/** Whether labels (none at all counts as none set) satisfy every term. Only the object's own keys count. */
export function matchesLabelTerms(labels: Record<string, string> | undefined, terms: readonly LabelTerm[]): boolean {
  const l = labels ?? {};
  return terms.every((t) => {
    const has = Object.hasOwn(l, t.key);
    switch (t.op) {
      case 'exists':
        return has;
      case 'absent':
        return !has;
      case '=':
        return has && l[t.key] === t.value;
      case '!=':
        return !has || l[t.key] !== t.value;
    }
  });
}
