import { createHash } from 'node:crypto';

/** Longest client id the gateway makes: MQTT 3.1.1 only promises 23 characters, every broker in use (Mosquitto, EMQX, HiveMQ, VerneMQ) takes far more. */
export const MAX_CLIENT_ID_LENGTH = 64;

const PREFIX = 'ota-gateway-';

/**
 * The default MQTT client id of an instance: `ota-gateway-<hostname>-<port>`,
 * with anything but letters, digits and `-` in the host name turned into `-`.
 * Distinct per host (and per port, for two processes on one host), stable
 * across restarts there, so two instances never take each other's session and
 * a restarted one resumes its own. A name too long for
 * {@link MAX_CLIENT_ID_LENGTH} is cut and ends with a hash of the whole, so
 * that two long names with one prefix stay apart.
 */
export function defaultClientId(hostname: string, port: number): string {
  const host = hostname.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'host';
  const full = `${PREFIX}${host}-${port}`;
  if (full.length <= MAX_CLIENT_ID_LENGTH) return full;
  const hash = createHash('sha256').update(`${hostname}:${port}`).digest('hex').slice(0, 10);
  return `${full.slice(0, MAX_CLIENT_ID_LENGTH - hash.length - 1)}-${hash}`;
}
