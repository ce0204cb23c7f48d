// Admin bearer token on every REST call below /api/v1.
import type { RequestHandler } from 'express';
import { WeftError } from '../../model/errors.js';
import { bearerMatches } from '../auth/bearer.js';

export function requireToken(accepted: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    if (bearerMatches(req.headers.authorization, accepted)) {
      next();
      return;
    }
    const why = req.headers.authorization === undefined ? 'missing Authorization header' : 'wrong or malformed bearer token';
    next(new WeftError('Unauthorized', `${why}; send "Authorization: Bearer <token>" with the admin token from the controller's data directory (admin.token)`));
  };
}
