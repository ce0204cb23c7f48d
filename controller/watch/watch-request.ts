// Reads what a watch client sends (model/watch.ts WatchRequest): pure, so
// the socket only decides what to do with the result. Fields the contract
// does not name are ignored, so a newer console still talks to an older
// controller.
import { WeftError } from '../../model/errors.js';
import type { WatchRequest } from '../../model/watch.js';

/** Far longer than any token or position; a longer string is not one. */
const MAX_FIELD_CHARS = 1024;

function optionalString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > MAX_FIELD_CHARS) {
    throw new WeftError('Invalid', `"${key}" must be a string of at most ${MAX_FIELD_CHARS} characters`, { field: key });
  }
  return v;
}

/** Throws WeftError BadJSON (not JSON) or Invalid (JSON, but no request the stream knows). */
export function parseWatchRequest(text: string): WatchRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e: unknown) {
    throw new WeftError('BadJSON', `a watch message must be JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new WeftError('Invalid', 'a watch message must be a JSON object with a "type"');
  const o = value as Record<string, unknown>;
  switch (o.type) {
    case 'auth': {
      const token = optionalString(o, 'token');
      if (token === undefined || token === '') throw new WeftError('Invalid', '"auth" needs a "token" (the admin token)', { field: 'token' });
      const since = optionalString(o, 'since');
      return since === undefined ? { type: 'auth', token } : { type: 'auth', token, since };
    }
    case 'ping':
      return { type: 'ping' };
    default:
      throw new WeftError('Invalid', `unknown watch message type ${JSON.stringify(o.type)}; expected "auth" or "ping"`, { field: 'type' });
  }
}
