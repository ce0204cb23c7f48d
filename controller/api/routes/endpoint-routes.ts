// /api/v1/endpoints: declared and attached endpoints; DELETE removes a declaration.
import { Router, type Request } from 'express';
import { WeftError } from '../../../model/errors.js';
import { API_VERSION } from '../../../model/meta.js';
import { parseLabelSelector } from '../../status/label-selector.js';
import type { EndpointQuery } from '../../status/status-view.js';
import type { AppDeps } from '../app.js';

function queryString(req: Request, key: string): string | undefined {
  const v: unknown = (req.query as Record<string, unknown>)[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    throw new WeftError('Invalid', `query parameter "${key}" must be given once`, { details: [{ path: key, message: 'given more than once', value: v }] });
  }
  return v;
}

export function endpointRoutes({ resources, status }: AppDeps): Router {
  const r = Router();
  r.get('/endpoints', (req, res) => {
    const q: EndpointQuery = {};
    const network = queryString(req, 'network');
    const host = queryString(req, 'host');
    const selector = queryString(req, 'labelSelector');
    if (network !== undefined) q.network = network;
    if (host !== undefined) q.host = host;
    if (selector !== undefined && selector !== '') q.selector = parseLabelSelector(selector);
    const { revision, items } = status.listEndpoints(q);
    res.json({ apiVersion: API_VERSION, kind: 'EndpointList', revision, items });
  });
  r.get('/endpoints/:name', (req, res) => {
    res.json(status.getEndpoint(req.params.name));
  });
  r.delete('/endpoints/:name', (req, res) => {
    res.json(resources.deleteEndpoint(req.params.name));
  });
  return r;
}
