// Label selectors on the API (?labelSelector=): the grammar is
// model/label-selector.ts, shared with the console; here a refusal becomes
// a WeftError and the terms a predicate.
import { WeftError } from '../../model/errors.js';
import { matchesLabelTerms, parseLabelSelectorTerms } from '../../model/label-selector.js';

export type LabelPredicate = (labels: Record<string, string> | undefined) => boolean;

export function parseLabelSelector(text: string): LabelPredicate {
  const parsed = parseLabelSelectorTerms(text);
  if (!parsed.ok) {
    const term = parsed.term;
    throw new WeftError('Invalid', `labelSelector term ${JSON.stringify(term)} is not valid`, {
      details: [{ path: 'labelSelector', message: `cannot parse ${JSON.stringify(term)}`, value: text, allowed: 'comma-separated key=value, key!=value, key or !key' }],
    });
  }
  const terms = parsed.terms;
  return (labels) => matchesLabelTerms(labels, terms);
}
