// /api/v1/firewallpolicies: create, read, list (?labelSelector=), update, delete.
// Reads go through StatusView, which computes each policy's status.
import { Router, type Request } from 'express';
import { WeftError } from '../../../model/errors.js';
import { KIND_NAMES } from '../../../model/kinds.js';
import { API_VERSION } from '../../../model/meta.js';
import { parseLabelSelector, type LabelPredicate } from '../../status/label-selector.js';
import type { AppDeps } from '../app.js';

const PATH = `/${KIND_NAMES.FirewallPolicy.plural}`;

function labelSelector(req: Request): LabelPredicate | undefined {
  const v: unknown = (req.query as Record<string, unknown>).labelSelector;
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') {
    throw new WeftError('Invalid', 'query parameter "labelSelector" must be given once', { details: [{ path: 'labelSelector', message: 'given more than once', value: v }] });
  }
  return parseLabelSelector(v);
}

export function firewallPolicyRoutes({ resources, status }: AppDeps): Router {
  const r = Router();
  r.get(PATH, (req, res) => {
    const selector = labelSelector(req);
    const { revision, items } = status.listFirewallPolicies();
    res.json({ apiVersion: API_VERSION, kind: 'FirewallPolicyList', revision, items: selector ? items.filter((p) => selector(p.metadata.labels)) : items });
  });
  r.post(PATH, (req, res) => {
    const created = resources.createFirewallPolicy(req.body);
    res.status(201).location(`/api/v1${PATH}/${created.metadata.name}`).json(status.getFirewallPolicy(created.metadata.name));
  });
  r.get(`${PATH}/:name`, (req, res) => {
    res.json(status.getFirewallPolicy(req.params.name));
  });
  r.put(`${PATH}/:name`, (req, res) => {
    const updated = resources.updateFirewallPolicy(req.params.name, req.body);
    res.json(status.getFirewallPolicy(updated.metadata.name));
  });
  r.delete(`${PATH}/:name`, (req, res) => {
    res.json(resources.deleteFirewallPolicy(req.params.name));
  });
  return r;
}
