// The controller's logger: pino, JSON lines on stderr. Tokens never reach a
// log line by construction (nothing logs headers); the redact list is a
// second line of defence for anyone who later logs a request.
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;
/** inversify token for the Logger. */
export const Logger = Symbol('Logger');

const REDACT_PATHS = ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', 'adminToken', 'agentToken'];

export function createLogger(level = 'info'): Logger {
  return pino({ level, base: { component: 'controller' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, pino.destination({ dest: 2, sync: true }));
}
