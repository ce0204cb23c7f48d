// /api/v1/hosts: hosts agents connected from (or declared by apply), with live state.
import { Router } from 'express';
import { API_VERSION } from '../../../model/meta.js';
import type { AppDeps } from '../app.js';

export function hostRoutes({ status }: AppDeps): Router {
  const r = Router();
  r.get('/hosts', (_req, res) => {
    const { revision, items } = status.listHosts();
    res.json({ apiVersion: API_VERSION, kind: 'HostList', revision, items });
  });
  r.get('/hosts/:name', (req, res) => {
    res.json(status.getHost(req.params.name));
  });
  return r;
}
