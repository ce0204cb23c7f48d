// How healthy an object is, in three levels every view shows the same way:
// colour plus a glyph and a word, so colour is never the only cue. Pure.
import type { AnyResource } from '../../model/kinds.js';

export type Health = 'ok' | 'bad' | 'unknown';

export interface HealthInfo {
  health: Health;
  /** Short text for a table cell or a tooltip: "Ready", "NotReady (disconnected)", "Not ready: NoHosts". */
  text: string;
}

export const HEALTH_GLYPH: Record<Health, string> = { ok: '✓', bad: '✕', unknown: '?' };
export const HEALTH_WORD: Record<Health, string> = { ok: 'Healthy', bad: 'Failing', unknown: 'Unknown' };

interface ConditionLike {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export function readyCondition(o: AnyResource): ConditionLike | undefined {
  const conditions = (o.status as { conditions?: ConditionLike[] } | undefined)?.conditions;
  return conditions?.find((c) => c.type === 'Ready');
}

export function healthOf(o: AnyResource): HealthInfo {
  if (o.kind === 'Host') {
    // A host's state is whether its agent is connected; Ready is what users look for first.
    const state = o.status?.state;
    if (state === 'Ready') return { health: 'ok', text: 'Ready (connected)' };
    if (state === 'NotReady') return { health: 'bad', text: 'NotReady (disconnected)' };
    if (state === 'Gone') return { health: 'bad', text: 'Gone (endpoints withdrawn)' };
  }
  if (o.kind === 'Endpoint' && o.status?.phase === 'Failed') return { health: 'bad', text: 'Failed' };
  const ready = readyCondition(o);
  if (!ready) return { health: 'unknown', text: o.kind === 'Host' ? 'No agent has connected yet' : 'No status yet' };
  if (ready.status === 'True') return { health: 'ok', text: 'Ready' };
  if (ready.status === 'False') return { health: 'bad', text: `Not ready: ${ready.reason}` };
  return { health: 'unknown', text: `Unknown: ${ready.reason}` };
}
