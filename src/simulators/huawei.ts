/**
 * `npm run simulate:huawei -- --url <callback> [--token <token>]`: posts a
 * realistic sequence of Huawei northbound pushes to the gateway (see
 * ./huawei-pushes.ts) and prints each push and the HTTP status.
 *
 * Exit codes: 0 every push answered 200; 1 any other answer or none; 2 bad flags.
 */
import { HUAWEI_CALLBACK_PATH } from '../ingest/huawei/webhook.plugin';
import { integerFlag, parseFlags, runCli, UsageError } from './cli';
import { callbackUrl, runHuaweiSequence, type HuaweiSequenceOptions } from './huawei-pushes';
import { consoleOutput } from './output';

/** Pause between two pushes by default: slow enough to watch on the dashboard. */
const DEFAULT_DELAY_MS = 300;

export const HUAWEI_USAGE = `Usage: npm run simulate:huawei -- --url <callback> [options]

A simulated Huawei OceanConnect platform: posts firmware pushes (downloading,
downloaded, updating, result SUCCESS), the firmware result again (a re-push),
software pushes (downloading, result FAIL with errorCode 7) and a device shadow
change (DELIVERED) to the gateway, with fresh ids each run.

Options:
  --url <callback>      the gateway's callback, e.g. http://localhost:4000${HUAWEI_CALLBACK_PATH}
                        (a URL without a path gets ${HUAWEI_CALLBACK_PATH})
  --token <token>       appended as ?token= (the gateway's WEBHOOK_TOKEN)
  --device-id <id>      the device id to use (default: a fresh sim-xxxxxxxx)
  --delay <ms>          pause between pushes (default ${DEFAULT_DELAY_MS})
  -h, --help            show this help

Exits with 1 when any push is not answered 200.
`;

export type HuaweiCommand = { readonly help: true } | { readonly help: false; readonly options: HuaweiSequenceOptions };

/** Parses the flags (without `node` and the script). @throws UsageError naming the first bad or missing flag. */
export function parseHuaweiArgs(argv: readonly string[]): HuaweiCommand {
  const values = parseFlags(argv, {
    url: { type: 'string' },
    token: { type: 'string' },
    'device-id': { type: 'string' },
    delay: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return { help: true };
  if (values.url === undefined) throw new UsageError('--url is required');
  if (values.token !== undefined && values.token === '') throw new UsageError('--token must not be empty');
  if (values['device-id'] !== undefined && values['device-id'].trim() === '') throw new UsageError('--device-id must not be empty');
  const delayMs = values.delay === undefined ? DEFAULT_DELAY_MS : integerFlag('delay', values.delay);
  if (delayMs < 0) throw new UsageError(`--delay must be 0 or more milliseconds (got ${delayMs})`);
  try {
    callbackUrl(values.url, values.token);
  } catch (error) {
    throw new UsageError(`--${(error as Error).message}`);
  }
  return { help: false, options: { url: values.url, token: values.token, deviceId: values['device-id'], delayMs } };
}

async function main(argv: readonly string[]): Promise<number> {
  const command = parseHuaweiArgs(argv);
  if (command.help) {
    process.stdout.write(HUAWEI_USAGE);
    return 0;
  }
  const result = await runHuaweiSequence({ ...command.options, output: consoleOutput });
  return result.ok ? 0 : 1;
}

if (require.main === module) void runCli('simulate:huawei', HUAWEI_USAGE, () => main(process.argv.slice(2)));
