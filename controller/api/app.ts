// The REST API as an express app. createApp never listens: main.ts mounts it
// on the HTTP server it shares with the agent WebSocket, tests listen(0).
import express, { type Express } from 'express';
import { API_PREFIX, HEALTH_PATH, MAX_BODY_BYTES } from '../../model/rest.js';
import type { AuthTokens } from '../auth/token-files.js';
import type { ResourceService } from '../resources/resource-service.js';
import type { StatusView } from '../status/status-view.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/logger.js';
import { requireToken } from './auth-middleware.js';
import { consoleRoutes, type ConsoleOptions } from './console-routes.js';
import { errorMiddleware, notFound } from './error-middleware.js';
import { applyRoutes } from './routes/apply-routes.js';
import { endpointRoutes } from './routes/endpoint-routes.js';
import { eventRoutes } from './routes/event-routes.js';
import { firewallPolicyRoutes } from './routes/firewall-policy-routes.js';
import { vnfRoutes } from './routes/vnf-routes.js';
import { hostRoutes } from './routes/host-routes.js';
import { networkRoutes } from './routes/network-routes.js';
import { schemaRoutes } from './routes/schema-routes.js';

export interface AppDeps {
  resources: ResourceService;
  status: StatusView;
  store: Store;
  tokens: AuthTokens;
  logger: Logger;
  /** Where the web console's files are (tests); default dist/console beside the compiled controller. */
  console?: ConsoleOptions;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      deps.logger.debug({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  });

  app.get(HEALTH_PATH, (_req, res) => {
    res.json({ status: 'ok', revision: deps.store.revision() });
  });

  // Authenticate before reading a body: an unauthenticated client gets nothing parsed.
  app.use(API_PREFIX, requireToken([deps.tokens.admin]));
  // Any content type is read as JSON: curl's default form type should not make a valid body "missing".
  app.use(API_PREFIX, express.json({ limit: MAX_BODY_BYTES, type: () => true, strict: true }));
  app.use(API_PREFIX, networkRoutes(deps), endpointRoutes(deps), hostRoutes(deps), firewallPolicyRoutes(deps), vnfRoutes(deps), applyRoutes(deps), schemaRoutes(deps), eventRoutes(deps));

  // The web console at /: public files, the data behind /api/v1 needs the token.
  app.use(consoleRoutes(deps.console));

  app.use(notFound);
  app.use(errorMiddleware(deps.logger));
  return app;
}
