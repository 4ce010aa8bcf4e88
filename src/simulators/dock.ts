/**
 * `npm run simulate:dock -- --gateway-sn <sn> [...]`: a simulated DJI dock
 * (see ./dji-dock.ts). Runs until Ctrl-C, or with `--once` until its first
 * upgrade has finished.
 *
 * Exit codes: 0 done; 1 could not connect, or an events_reply never came
 * (with --once); 2 bad flags.
 */
import { checkDockOptions, DEFAULT_INTERVAL_MS, DEFAULT_MQTT_URL, DEFAULT_REPLY_TIMEOUT_MS, FAILURE_RESULT, startDock, type DockOptions } from './dji-dock';
import { integerFlag, numberFlag, parseFlags, runCli, UsageError } from './cli';
import { consoleOutput } from './output';

export const DOCK_USAGE = `Usage: npm run simulate:dock -- --gateway-sn <sn> [options]

A simulated DJI dock: answers the gateway's ota_create on thing/product/<sn>/services
and reports ota_progress (download 0-100 %, upgrade 0-100 %, then ok) on .../events,
checking that every events_reply comes back.

Options:
  --gateway-sn <sn>     the dock's serial number (required)
  --mqtt-url <url>      the broker (default ${DEFAULT_MQTT_URL}; user:password@ in the URL if needed)
  --username <name>     MQTT username (default: the sn, which is what the gateway's broker expects)
  --password <secret>   MQTT password, when the gateway has MQTT_PASSWORD_FILE (see npm run mqtt:passwd)
  --fail-at <percent>   fail the upgrade phase at this percent (0-100) with result ${FAILURE_RESULT}
  --reject <code>       refuse every ota_create with this result code, e.g. 312015
  --speed <x>           report x times faster (default 1: one report every ${DEFAULT_INTERVAL_MS} ms)
  --once                exit after the first upgrade has finished
  -h, --help            show this help

Then start an upgrade for the same sn on the dashboard (/dashboard) or with the
createFirmwareUpgrade mutation. Ctrl-C stops the dock.
`;

/** The parsed command line: the options for {@link startDock}, or a request for help. */
export type DockCommand = { readonly help: true } | { readonly help: false; readonly options: DockOptions };

/**
 * Parses the flags (without `node` and the script). @throws UsageError naming
 * the first bad or missing flag.
 */
export function parseDockArgs(argv: readonly string[]): DockCommand {
  const values = parseFlags(argv, {
    'gateway-sn': { type: 'string' },
    'mqtt-url': { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    'fail-at': { type: 'string' },
    reject: { type: 'string' },
    speed: { type: 'string' },
    once: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return { help: true };
  if (values['gateway-sn'] === undefined) throw new UsageError('--gateway-sn is required');
  const options: DockOptions = {
    gatewaySn: values['gateway-sn'],
    mqttUrl: values['mqtt-url'] ?? DEFAULT_MQTT_URL,
    username: values.username,
    password: values.password,
    failAt: values['fail-at'] === undefined ? undefined : integerFlag('fail-at', values['fail-at']),
    reject: values.reject === undefined ? undefined : integerFlag('reject', values.reject),
    speed: values.speed === undefined ? undefined : numberFlag('speed', values.speed),
    once: values.once ?? false,
    replyTimeoutMs: DEFAULT_REPLY_TIMEOUT_MS,
  };
  try {
    checkDockOptions(options);
  } catch (error) {
    throw new UsageError(`--${(error as Error).message}`);
  }
  return { help: false, options };
}

async function main(argv: readonly string[]): Promise<number> {
  const command = parseDockArgs(argv);
  if (command.help) {
    process.stdout.write(DOCK_USAGE);
    return 0;
  }
  const dock = await startDock({ ...command.options, output: consoleOutput });
  const onSignal = (signal: NodeJS.Signals) => {
    consoleOutput.info(`${signal}: disconnecting (again to force)`);
    void dock.close();
  };
  // once: a second Ctrl-C falls through to Node's default and ends the process.
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const summary = await dock.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return summary.upgrades.some((u) => u.repliesMissing > 0) ? 1 : 0;
}

if (require.main === module) void runCli('simulate:dock', DOCK_USAGE, () => main(process.argv.slice(2)));
