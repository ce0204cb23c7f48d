// /api/v1/networks: create, read, list, update, delete.
import { Router } from 'express';
import { API_VERSION } from '../../../model/meta.js';
import type { AppDeps } from '../app.js';

export function networkRoutes({ resources, status }: AppDeps): Router {
  const r = Router();
  r.get('/networks', (_req, res) => {
    const { revision, items } = status.listNetworks();
    res.json({ apiVersion: API_VERSION, kind: 'NetworkList', revision, items });
  });
  r.post('/networks', (req, res) => {
    const created = resources.createNetwork(req.body);
    res.status(201).location(`/api/v1/networks/${created.metadata.name}`).json(status.getNetwork(created.metadata.name));
  });
  r.get('/networks/:name', (req, res) => {
    res.json(status.getNetwork(req.params.name));
  });
  r.put('/networks/:name', (req, res) => {
    const updated = resources.updateNetwork(req.params.name, req.body);
    res.json(status.getNetwork(updated.metadata.name));
  });
  r.delete('/networks/:name', (req, res) => {
    res.json(resources.deleteNetwork(req.params.name));
  });
  return r;
}
