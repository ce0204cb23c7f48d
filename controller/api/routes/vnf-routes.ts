// /api/v1/<plural> for every VNF kind (e.g. /api/v1/firewalls): create,
// read, list (?labelSelector=), update, delete. One route module for all
// kinds: a new kind gets its paths from its KIND_NAMES entry.
import { Router, type Request } from 'express';
import { WeftError } from '../../../model/errors.js';
import { KIND_NAMES } from '../../../model/kinds.js';
import { API_VERSION } from '../../../model/meta.js';
import type { VnfKindName } from '../../../model/vnf-resource.js';
import { VNF_KIND_NAMES } from '../../planner/vnf-kinds.js';
import { parseLabelSelector } from '../../status/label-selector.js';
import type { AppDeps } from '../app.js';

function labelSelector(req: Request) {
  const v: unknown = (req.query as Record<string, unknown>).labelSelector;
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') {
    throw new WeftError('Invalid', 'query parameter "labelSelector" must be given once', { details: [{ path: 'labelSelector', message: 'given more than once', value: v }] });
  }
  return parseLabelSelector(v);
}

function kindRoutes(r: Router, kind: VnfKindName, { resources, status }: AppDeps): void {
  const path = `/${KIND_NAMES[kind].plural}`;
  r.get(path, (req, res) => {
    const { revision, items } = status.listVnfs(kind, labelSelector(req));
    res.json({ apiVersion: API_VERSION, kind: `${kind}List`, revision, items });
  });
  r.post(path, (req, res) => {
    const created = resources.createVnf(kind, req.body);
    res.status(201).location(`/api/v1${path}/${created.metadata.name}`).json(status.getVnf(kind, created.metadata.name));
  });
  r.get(`${path}/:name`, (req, res) => {
    res.json(status.getVnf(kind, req.params.name));
  });
  r.put(`${path}/:name`, (req, res) => {
    const updated = resources.updateVnf(kind, req.params.name, req.body);
    res.json(status.getVnf(kind, updated.metadata.name));
  });
  r.delete(`${path}/:name`, (req, res) => {
    res.json(resources.deleteVnf(kind, req.params.name));
  });
}

export function vnfRoutes(deps: AppDeps): Router {
  const r = Router();
  for (const kind of VNF_KIND_NAMES) kindRoutes(r, kind, deps);
  return r;
}
