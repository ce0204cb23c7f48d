// The web console's files (built by scripts/build-console.mjs into
// dist/console/) at /, beside the API. The page is public: it holds no data
// and asks for the admin token itself, which then goes with every API call
// as a bearer header. So these routes need no token; /api/v1 still does.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import express, { Router, type Request, type Response } from 'express';
import { API_PREFIX } from '../../model/rest.js';

/**
 * dist/controller/api/console-routes.js -> dist/console/. Run from source
 * (tests under ts-jest) this points at ./console/, which does not exist:
 * tests pass their own directory.
 */
const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

export interface ConsoleOptions {
  /** Directory holding index.html, app.js, app.css; default DEFAULT_CONSOLE_DIR. */
  dir?: string;
}

/** A Host header we are willing to echo into the policy: host name or address and port, nothing that could end a directive. */
const SAFE_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * Only this origin, for everything. Two relaxations, both needed:
 * - script-src 'unsafe-eval': ajv compiles the shared JSON Schemas
 *   (model/validate.ts) into functions with new Function, which is how the
 *   editor checks a document exactly as the controller will.
 * - style-src 'unsafe-inline': CodeMirror injects its theme as <style>
 *   elements where constructable stylesheets are missing, and sizes and
 *   positions its parts (and cytoscape its canvases) with style attributes.
 * connect-src names ws:/wss: on this host explicitly for the watch stream:
 * older browsers do not count WebSockets to this origin as 'self'.
 */
export function contentSecurityPolicy(host: string | undefined): string {
  const sockets = host !== undefined && SAFE_HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'none'",
    "script-src 'self' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${sockets}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function securityHeaders(req: Request, res: Response): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(req.headers.host));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
}

export function consoleRoutes(opts: ConsoleOptions = {}): Router {
  const dir = opts.dir ?? DEFAULT_CONSOLE_DIR;
  const index = join(dir, 'index.html');
  const r = Router();
  r.use((req, res, next) => {
    // An API path nobody answered is the API's 404, not a file to look for.
    if (req.path === API_PREFIX || req.path.startsWith(`${API_PREFIX}/`)) {
      next('router');
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') securityHeaders(req, res);
    next();
  });
  // Checked on every request, not at start: a build while the controller runs is picked up.
  r.get('/', (_req, res) => {
    if (!existsSync(index)) {
      res
        .status(503)
        .type('text/plain')
        .send(`The web console is not built: run \`npm run build\` in the weft checkout (it writes ${dir}), then reload this page.\n`);
      return;
    }
    // The page names the current app.js; a cached copy could name one that is gone.
    res.setHeader('Cache-Control', 'no-store');
    res.sendFile(index);
  });
  // app.js, app.css, the map and the icon. index: false: / is the route above.
  r.use(
    express.static(dir, {
      index: false,
      dotfiles: 'ignore',
      fallthrough: true,
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
  );
  return r;
}
