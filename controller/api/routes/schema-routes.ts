// /api/v1/schemas: the JSON Schema of each kind, the same documents
// `weft schema` exports and the server validates with (model/schema-export.ts).
import { Router } from 'express';
import { WeftError } from '../../../model/errors.js';
import { KIND_NAMES, KINDS, kindFromName } from '../../../model/kinds.js';
import { API_VERSION } from '../../../model/meta.js';
import { API_PREFIX } from '../../../model/rest.js';
import { exportKindSchema, schemaId } from '../../../model/schema-export.js';
import type { AppDeps } from '../app.js';

export function schemaRoutes(_deps: AppDeps): Router {
  const r = Router();
  r.get('/schemas', (_req, res) => {
    res.json({
      apiVersion: API_VERSION,
      kind: 'SchemaList',
      items: KINDS.map((kind) => ({ kind, apiVersion: API_VERSION, $id: schemaId(kind), url: `${API_PREFIX}/schemas/${kind.toLowerCase()}` })),
    });
  });
  r.get('/schemas/:kind', (req, res) => {
    // Any case, plural and short names (networks, net), and the file name (network.json).
    const asked = req.params.kind;
    const kind = kindFromName(asked.replace(/\.json$/i, ''));
    if (!kind) {
      const known = KINDS.map((k) => `${k} (${KIND_NAMES[k].plural})`).join(', ');
      throw new WeftError('NotFound', `no schema for kind ${JSON.stringify(asked)}: the kinds are ${known}`);
    }
    res.json(exportKindSchema(kind));
  });
  return r;
}
