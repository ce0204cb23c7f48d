// Label selectors as Kubernetes writes them, equality-based:
// "app=web,tier!=db,canary,!legacy" (k=v, k==v, k!=v, k exists, !k absent).
import { WeftError } from '../../model/errors.js';

export type LabelPredicate = (labels: Record<string, string> | undefined) => boolean;

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

export function parseLabelSelector(text: string): LabelPredicate {
  const tests: LabelPredicate[] = [];
  for (const raw of text.split(',')) {
    const term = raw.trim();
    const m = /^(!?)([^=!]+?)\s*(?:(==|=|!=)\s*(.*))?$/.exec(term);
    const key = m?.[2]?.trim() ?? '';
    const op = m?.[3];
    const value = m?.[4]?.trim() ?? '';
    if (!m || !KEY.test(key) || (op !== undefined && (m[1] === '!' || !VALUE.test(value)))) {
      throw new WeftError('Invalid', `labelSelector term ${JSON.stringify(term)} is not valid`, {
        details: [{ path: 'labelSelector', message: `cannot parse ${JSON.stringify(term)}`, value: text, allowed: 'comma-separated key=value, key!=value, key or !key' }],
      });
    }
    if (op === undefined) tests.push(m[1] === '!' ? (l) => l?.[key] === undefined : (l) => l?.[key] !== undefined);
    else if (op === '!=') tests.push((l) => l?.[key] !== value);
    else tests.push((l) => l?.[key] === value);
  }
  return (labels) => tests.every((t) => t(labels));
}
