import { WeftError } from '../../../../model/errors.js';
import { parseResource } from '../../../../model/validate.js';

/** What full validation says of a document of `kind` named edge with this spec: each problem's path and message; [] when it passes. */
export function parseIssues(kind: string, spec: Record<string, unknown>): Array<{ path: string; message: string }> {
  try {
    parseResource({ apiVersion: 'weft.dev/v1', kind, metadata: { name: 'edge' }, spec });
    return [];
  } catch (e: unknown) {
    if (!(e instanceof WeftError)) throw e;
    return (e.details ?? []).map((d) => ({ path: d.path, message: d.message }));
  }
}
