/**
 * Mosquitto's `password_file` format, so that operators manage docks'
 * credentials with `mosquitto_passwd` (or `npm run mqtt:passwd`): one
 * `username:hash` per line, where the hash is
 * - `$7$<iterations>$<salt, base64>$<hash, base64>`: PBKDF2-HMAC-SHA512 with a
 *   64-byte hash, what Mosquitto 2's `mosquitto_passwd` writes (101 iterations,
 *   12-byte salt), or
 * - `$6$<salt, base64>$<hash, base64>`: SHA-512 of the password then the salt,
 *   Mosquitto 1.6's format (`mosquitto_passwd -H sha512`).
 * Blank lines and lines starting with `#` are skipped; anything else that is
 * not one of these is an error naming its line (plain-text passwords are
 * refused, unlike Mosquitto, which would accept them).
 */
import { createHash, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** Mosquitto 2's defaults for `$7$`. */
export const PBKDF2_ITERATIONS = 101;
const SALT_BYTES = 12;
const HASH_BYTES = 64;
/** A file claiming more iterations than this would let it stall every CONNECT. */
const MAX_ITERATIONS = 1_000_000;

/** One user's stored hash. */
export type PasswordHash =
  | { readonly kind: 'pbkdf2-sha512'; readonly iterations: number; readonly salt: Buffer; readonly hash: Buffer }
  | { readonly kind: 'sha512'; readonly salt: Buffer; readonly hash: Buffer };

/** Raised for a malformed password file; the message names the line, never a hash. */
export class PasswordFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PasswordFileError';
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function decode(part: string | undefined, what: string, line: number): Buffer {
  if (part === undefined || !BASE64.test(part)) throw new PasswordFileError(`line ${line}: the ${what} is not base64`);
  return Buffer.from(part, 'base64');
}

function parseHash(text: string, line: number): PasswordHash {
  const parts = text.split('$');
  // "$7$101$salt$hash" splits into ['', '7', '101', salt, hash].
  if (parts[0] === '' && parts[1] === '7' && parts.length === 5) {
    const iterations = Number(parts[2]);
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
      throw new PasswordFileError(`line ${line}: iterations must be 1 to ${MAX_ITERATIONS}`);
    }
    const salt = decode(parts[3], 'salt', line);
    const hash = decode(parts[4], 'hash', line);
    if (hash.length !== HASH_BYTES) throw new PasswordFileError(`line ${line}: a $7$ hash is ${HASH_BYTES} bytes`);
    return { kind: 'pbkdf2-sha512', iterations, salt, hash };
  }
  if (parts[0] === '' && parts[1] === '6' && parts.length === 4) {
    const salt = decode(parts[2], 'salt', line);
    const hash = decode(parts[3], 'hash', line);
    if (hash.length !== HASH_BYTES) throw new PasswordFileError(`line ${line}: a $6$ hash is ${HASH_BYTES} bytes`);
    return { kind: 'sha512', salt, hash };
  }
  throw new PasswordFileError(`line ${line}: not a $7$ (PBKDF2-SHA512) or $6$ (SHA-512) hash as mosquitto_passwd writes`);
}

/**
 * Parses a password file into username -> hash.
 * @throws PasswordFileError on the first malformed line or a username given twice.
 */
export function parsePasswordFile(text: string): Map<string, PasswordHash> {
  const users = new Map<string, PasswordHash>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const entry = raw.trim();
    if (entry === '' || entry.startsWith('#')) return;
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new PasswordFileError(`line ${line}: expected username:hash`);
    const username = entry.slice(0, colon);
    if (users.has(username)) throw new PasswordFileError(`line ${line}: username "${username}" appears twice`);
    users.set(username, parseHash(entry.slice(colon + 1), line));
  });
  return users;
}

/** True when `password` matches `stored`; constant-time in the comparison. */
export async function verifyPassword(password: Buffer | string, stored: PasswordHash): Promise<boolean> {
  const presented = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  const computed =
    stored.kind === 'pbkdf2-sha512'
      ? await pbkdf2Async(presented, stored.salt, stored.iterations, HASH_BYTES, 'sha512')
      : createHash('sha512').update(presented).update(stored.salt).digest();
  return computed.length === stored.hash.length && timingSafeEqual(computed, stored.hash);
}

/** A `$7$` hash of `password`, as `mosquitto_passwd` of Mosquitto 2 writes it. */
export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}
