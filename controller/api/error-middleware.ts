// Every failure leaves the API as the catalogue's JSON error body
// ({ code, message, field, details, retriable }) with the catalogue's status.
// Unexpected errors are logged in full and reported without internals.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { WeftError, isWeftError } from '../../model/errors.js';
import { MAX_BODY_BYTES } from '../../model/rest.js';
import type { Logger } from '../util/logger.js';

interface ParserError {
  type?: string;
  message?: string;
  code?: string;
}

/** Map anything thrown or passed to next() onto a WeftError. */
function toWeftError(err: unknown): WeftError {
  if (isWeftError(err)) return err;
  const e = (err ?? {}) as ParserError;
  switch (e.type) {
    case 'entity.parse.failed':
      return new WeftError('BadJSON', `the body is not valid JSON: ${e.message ?? 'parse error'}`, { cause: err });
    case 'entity.too.large':
      return new WeftError('TooLarge', `the body is larger than the limit of ${MAX_BODY_BYTES} bytes (${MAX_BODY_BYTES / (1024 * 1024)} MiB)`, { cause: err });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new WeftError('Invalid', `${e.message ?? 'unsupported body encoding'}; send UTF-8 JSON`, { cause: err });
    case 'request.aborted':
    case 'request.size.invalid':
      return new WeftError('Invalid', e.message ?? 'the request body was incomplete', { cause: err });
  }
  if (typeof e.code === 'string' && e.code.startsWith('SQLITE_CONSTRAINT')) {
    return new WeftError('Conflict', 'the change collided with another one; read the resource again and retry', { cause: err });
  }
  return new WeftError('Internal', 'internal error; see the controller log', { cause: err });
}

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const we = toWeftError(err);
    if (we.status >= 500) logger.error({ err, method: req.method, path: req.path }, 'request failed');
    else logger.debug({ code: we.code, method: req.method, path: req.path }, we.message);
    if (res.headersSent) {
      res.end();
      return;
    }
    if (we.code === 'Unauthorized') res.setHeader('WWW-Authenticate', 'Bearer realm="weft"');
    res.status(we.status).json(we.toJSON());
  };
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new WeftError('NotFound', `no route for ${req.method} ${req.path}`));
};
