// /api/v1/firewalls: the Firewall VNF; create, read, list (?labelSelector=), update, delete.
import { Router, type Request } from 'express';
import { WeftError } from '../../../model/errors.js';
import { KIND_NAMES } from '../../../model/kinds.js';
import { API_VERSION } from '../../../model/meta.js';
import { parseLabelSelector } from '../../status/label-selector.js';
import type { AppDeps } from '../app.js';

const PATH = `/${KIND_NAMES.Firewall.plural}`;

function labelSelector(req: Request) {
  const v: unknown = (req.query as Record<string, unknown>).labelSelector;
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') {
    throw new WeftError('Invalid', 'query parameter "labelSelector" must be given once', { details: [{ path: 'labelSelector', message: 'given more than once', value: v }] });
  }
  return parseLabelSelector(v);
}

export function firewallRoutes({ resources, status }: AppDeps): Router {
  const r = Router();
  r.get(PATH, (req, res) => {
    const { revision, items } = status.listFirewalls(labelSelector(req));
    res.json({ apiVersion: API_VERSION, kind: 'FirewallList', revision, items });
  });
  r.post(PATH, (req, res) => {
    const created = resources.createFirewall(req.body);
    res.status(201).location(`/api/v1${PATH}/${created.metadata.name}`).json(status.getFirewall(created.metadata.name));
  });
  r.get(`${PATH}/:name`, (req, res) => {
    res.json(status.getFirewall(req.params.name));
  });
  r.put(`${PATH}/:name`, (req, res) => {
    const updated = resources.updateFirewall(req.params.name, req.body);
    res.json(status.getFirewall(updated.metadata.name));
  });
  r.delete(`${PATH}/:name`, (req, res) => {
    res.json(resources.deleteFirewall(req.params.name));
  });
  return r;
}
