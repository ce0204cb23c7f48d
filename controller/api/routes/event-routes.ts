// GET /api/v1/events?kind=&name=&limit=: the controller's recent events, oldest first.
import { Router, type Request } from 'express';
import { WeftError } from '../../../model/errors.js';
import type { EventList } from '../../../model/events.js';
import { KIND_NAMES, kindFromName } from '../../../model/kinds.js';
import { API_VERSION } from '../../../model/meta.js';
import { EVENTS_IN_ALL, type EventQuery } from '../../events/event-log.js';
import type { AppDeps } from '../app.js';

const DEFAULT_EVENT_LIMIT = 500;

function queryString(req: Request, key: string): string | undefined {
  const v: unknown = (req.query as Record<string, unknown>)[key];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') {
    throw new WeftError('Invalid', `query parameter "${key}" must be given once`, { details: [{ path: key, message: 'given more than once', value: v }] });
  }
  return v;
}

function parseQuery(req: Request): EventQuery {
  const q: EventQuery = { limit: DEFAULT_EVENT_LIMIT };
  const kind = queryString(req, 'kind');
  if (kind !== undefined) {
    const k = kindFromName(kind);
    if (!k) {
      const allowed = Object.keys(KIND_NAMES).join(', ');
      throw new WeftError('Invalid', `unknown kind ${JSON.stringify(kind)}: use one of ${allowed}`, { details: [{ path: 'kind', message: 'unknown kind', value: kind, allowed }] });
    }
    q.kind = k;
  }
  const name = queryString(req, 'name');
  if (name !== undefined) q.name = name;
  const limit = queryString(req, 'limit');
  if (limit !== undefined) {
    const n = Number(limit);
    if (!/^\d+$/.test(limit) || n < 1 || n > EVENTS_IN_ALL) {
      throw new WeftError('Invalid', `limit must be a whole number from 1 to ${EVENTS_IN_ALL}, got ${JSON.stringify(limit)}`, {
        details: [{ path: 'limit', message: 'out of range', value: limit, allowed: `1-${EVENTS_IN_ALL}` }],
      });
    }
    q.limit = n;
  }
  return q;
}

export function eventRoutes({ status }: AppDeps): Router {
  const r = Router();
  r.get('/events', (req, res) => {
    const body: EventList = { apiVersion: API_VERSION, kind: 'EventList', items: status.listEvents(parseQuery(req)) };
    res.json(body);
  });
  return r;
}
