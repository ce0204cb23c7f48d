// POST /api/v1/apply: many documents, all validated, one transaction.
import { Router } from 'express';
import type { AppDeps } from '../app.js';

export function applyRoutes({ resources }: AppDeps): Router {
  const r = Router();
  r.post('/apply', (req, res) => {
    res.json(resources.apply(req.body));
  });
  return r;
}
