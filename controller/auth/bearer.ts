// Bearer-token checks in constant time: both sides are hashed first so
// timingSafeEqual always compares equal-length digests and the time taken
// says nothing about the token's length or content.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/** True when the header carries one of the accepted tokens. Every candidate is compared (no early exit). */
export function bearerMatches(header: string | undefined, accepted: readonly string[]): boolean {
  const presented = digest(bearerToken(header) ?? '');
  let ok = false;
  for (const token of accepted) {
    if (timingSafeEqual(presented, digest(token)) && token.length > 0) ok = true;
  }
  return ok;
}
