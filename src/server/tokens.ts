import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented secret with the expected one in constant time. Both are
 * hashed first so that neither their contents nor their lengths leak through timing.
 */
export function secretMatches(presented: string | undefined | null, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Checks an `Authorization: Bearer <token>` value against the expected token. */
export function bearerMatches(header: string | undefined | null, expected: string): boolean {
  if (typeof header !== 'string') return false;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return secretMatches(match?.[1], expected);
}
