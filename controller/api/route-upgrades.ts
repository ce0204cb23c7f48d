// WebSocket upgrades on the controller's one HTTP server, sent by path to
// the endpoint that serves it (agents, watch clients); any other path is
// refused with a 404 that names the paths there are. rejectUpgrade is how
// every endpoint refuses an upgrade (agent hub, watch socket).
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WeftError } from '../../model/errors.js';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface UpgradeRoute {
  path: string;
  /** Who connects there, for the 404 message: "agents", "watch clients". */
  who: string;
  handle: UpgradeHandler;
}

/** The HTTP server's 'upgrade' listener for these routes (exact paths; the query string is the endpoint's business). */
export function routeUpgrades(routes: readonly UpgradeRoute[]): UpgradeHandler {
  const byPath = new Map(routes.map((r) => [r.path, r]));
  const known = routes.map((r) => `${r.who} connect to ${r.path}`).join(', ');
  return (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://weft').pathname;
    const route = byPath.get(path);
    if (!route) {
      rejectUpgrade(socket, new WeftError('NotFound', `no WebSocket endpoint at ${path}; ${known}`));
      return;
    }
    route.handle(req, socket, head);
  };
}

/** Answer an upgrade request with a plain HTTP error (the JSON error body of the REST API) and close. */
export function rejectUpgrade(socket: Duplex, err: WeftError): void {
  const body = JSON.stringify(err.toJSON());
  const extra = err.code === 'Unauthorized' ? 'WWW-Authenticate: Bearer realm="weft"\r\n' : '';
  socket.end(
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}
