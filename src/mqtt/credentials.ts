import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import { isValidSn } from './acl';
import { parsePasswordFile, verifyPassword, type PasswordHash } from './password-file';

/**
 * The identity map (`MQTT_IDENTITY_FILE`): one `username sn` per line, for the
 * users whose dock sn is not their username. Blank lines and `#` comments are
 * skipped. A username absent from it is its own dock sn.
 * @throws Error naming the bad line.
 */
export function parseIdentityFile(text: string): Map<string, string> {
  const map = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const entry = raw.trim();
    if (entry === '' || entry.startsWith('#')) return;
    const parts = entry.split(/\s+/);
    if (parts.length !== 2) throw new Error(`line ${index + 1}: expected "username sn"`);
    const [username, sn] = parts;
    if (!isValidSn(sn)) throw new Error(`line ${index + 1}: "${sn.slice(0, 80)}" is not a usable dock sn (1 to 64 characters, no / + # or leading $)`);
    if (map.has(username)) throw new Error(`line ${index + 1}: username "${username}" appears twice`);
    map.set(username, sn);
  });
  return map;
}

/** Where the credentials come from. */
export interface CredentialFiles {
  /** Mosquitto `password_file` (see password-file.ts). */
  readonly passwordFile: string;
  /** Optional `username sn` map (see {@link parseIdentityFile}). */
  readonly identityFile?: string;
}

/** How often the files are checked for changes (fs.watchFile polls; it survives editors replacing the file). */
const WATCH_INTERVAL_MS = 1000;

/**
 * Docks' credentials, from a Mosquitto password file and the identity map,
 * reloaded on SIGHUP and whenever either file changes. A reload that fails
 * (a file missing or malformed) keeps the credentials in force and logs a
 * warning naming the file and line, never a hash.
 */
export class CredentialStore {
  private users: Map<string, PasswordHash>;
  private identities: Map<string, string>;
  private readonly onSighup = () => this.reload('SIGHUP');
  private watching = false;

  /** @throws Error when a file cannot be read or parsed at start (the gateway does not start). */
  constructor(
    private readonly files: CredentialFiles,
    private readonly logger?: Logger,
  ) {
    const loaded = this.load();
    this.users = loaded.users;
    this.identities = loaded.identities;
  }

  /** The number of users, for the start-up log line. */
  get size(): number {
    return this.users.size;
  }

  /** The dock sn `username` speaks for, if the user exists. */
  snOf(username: string): string | undefined {
    return this.users.has(username) ? (this.identities.get(username) ?? username) : undefined;
  }

  /** True when `sn` is the sn of some user in the files (no dock may claim it as a sub-device). */
  isKnownDock(sn: string): boolean {
    if (this.users.has(sn) && !this.identities.has(sn)) return true;
    for (const mapped of this.identities.values()) if (mapped === sn) return true;
    return false;
  }

  /** The dock sn for a correct username and password; null otherwise. */
  async verify(username: string, password: Buffer | undefined): Promise<string | null> {
    const stored = this.users.get(username);
    if (!stored || !password) return null;
    return (await verifyPassword(password, stored)) ? (this.identities.get(username) ?? username) : null;
  }

  /** Loads both files again; on failure keeps what is in force. Returns whether it loaded. */
  reload(why: string): boolean {
    try {
      const loaded = this.load();
      this.users = loaded.users;
      this.identities = loaded.identities;
      this.logger?.info({ users: this.users.size, why }, 'MQTT credentials reloaded');
      return true;
    } catch (error) {
      this.logger?.warn({ why, error: (error as Error).message }, 'MQTT credentials not reloaded; the previous ones stay in force');
      return false;
    }
  }

  /** Reloads on SIGHUP and on changes to either file, until {@link stop}. */
  watch(): void {
    if (this.watching) return;
    this.watching = true;
    process.on('SIGHUP', this.onSighup);
    for (const file of this.watchedFiles()) {
      watchFile(file, { interval: WATCH_INTERVAL_MS, persistent: false }, (current, previous) => {
        if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino) {
          this.reload(`${file} changed`);
        }
      });
    }
  }

  stop(): void {
    if (!this.watching) return;
    this.watching = false;
    process.off('SIGHUP', this.onSighup);
    for (const file of this.watchedFiles()) unwatchFile(file);
  }

  private watchedFiles(): string[] {
    return [this.files.passwordFile, ...(this.files.identityFile ? [this.files.identityFile] : [])];
  }

  private load(): { users: Map<string, PasswordHash>; identities: Map<string, string> } {
    const read = (file: string) => {
      try {
        return readFileSync(file, 'utf8');
      } catch (error) {
        throw new Error(`${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
      }
    };
    const parse = <T>(file: string, parser: (text: string) => T): T => {
      try {
        return parser(read(file));
      } catch (error) {
        const message = (error as Error).message;
        throw new Error(message.startsWith(file) ? message : `${file}: ${message}`, { cause: error });
      }
    };
    const users = parse(this.files.passwordFile, parsePasswordFile);
    const identities = this.files.identityFile ? parse(this.files.identityFile, parseIdentityFile) : new Map<string, string>();
    for (const username of users.keys()) {
      if (!identities.has(username) && !isValidSn(username)) {
        throw new Error(`${this.files.passwordFile}: username "${username.slice(0, 80)}" is not a usable dock sn; map it to one in the identity file`);
      }
    }
    return { users, identities };
  }
}
