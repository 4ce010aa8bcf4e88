/**
 * `npm run mqtt:passwd -- --file <password file> --username <dock sn> [--password <secret>]`:
 * adds or replaces one user's line in a Mosquitto password file, as
 * `mosquitto_passwd -b` does (a `$7$` PBKDF2-SHA512 hash), for machines
 * without Mosquitto. Without `--password` it makes a random one and prints it
 * (once: only its hash is stored). The file is created with mode 0600; a
 * running gateway with `MQTT_PASSWORD_FILE` pointing at it reloads it.
 *
 * Exit codes: 0 written; 1 the file could not be read or written; 2 bad flags.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseFlags, runCli, UsageError } from '../simulators/cli';
import { isValidSn } from './acl';
import { hashPassword, parsePasswordFile } from './password-file';

export const PASSWD_USAGE = `Usage: npm run mqtt:passwd -- --file <password file> --username <name> [--password <secret>]

Adds or replaces <name> in a Mosquitto password file (the gateway's MQTT_PASSWORD_FILE)
with a $7$ (PBKDF2-SHA512) hash, as mosquitto_passwd -b does. Without --password a
random password is made and printed. A dock's username is its sn unless
MQTT_IDENTITY_FILE maps it to one.
`;

/** The password file's text with `username`'s line set to `hash` (added at the end if new). */
export function withUser(text: string, username: string, hash: string): string {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const line = `${username}:${hash}`;
  const index = lines.findIndex((l) => l.trim().startsWith(`${username}:`));
  if (index >= 0) lines[index] = line;
  else lines.push(line);
  return `${lines.join('\n')}\n`;
}

async function main(argv: readonly string[]): Promise<number> {
  const values = parseFlags(argv, {
    file: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(PASSWD_USAGE);
    return 0;
  }
  if (!values.file) throw new UsageError('--file is required');
  if (!values.username) throw new UsageError('--username is required');
  if (values.username.includes(':') || !isValidSn(values.username)) {
    throw new UsageError('--username must be 1 to 64 characters without : / + # or a leading $');
  }
  const password = values.password ?? randomBytes(18).toString('base64url');
  if (password === '') throw new UsageError('--password must not be empty');
  const before = existsSync(values.file) ? readFileSync(values.file, 'utf8') : '';
  // Refuse to rewrite a file the gateway could not read anyway.
  parsePasswordFile(before);
  const after = withUser(before, values.username, await hashPassword(password));
  const temporary = `${values.file}.${process.pid}.tmp`;
  writeFileSync(temporary, after, { mode: 0o600 });
  renameSync(temporary, values.file);
  process.stdout.write(`${values.username} written to ${values.file}\n`);
  if (values.password === undefined) process.stdout.write(`password: ${password}\n`);
  return 0;
}

if (require.main === module) void runCli('mqtt:passwd', PASSWD_USAGE, () => main(process.argv.slice(2)));
