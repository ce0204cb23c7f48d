import { WeftError } from '../../../../model/errors.js';

/** The WeftError `fn` throws (any other throw, or none, fails the test). */
export function caught(fn: () => unknown): WeftError {
  try {
    fn();
  } catch (e: unknown) {
    if (e instanceof WeftError) return e;
    throw e;
  }
  throw new Error('expected a WeftError');
}
