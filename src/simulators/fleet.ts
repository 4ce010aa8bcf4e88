/**
 * `npm run simulate:fleet -- --docks N [...]`: N simulated DJI docks, each
 * with an aircraft, of mixed models and firmware versions, in one process
 * (see ./dji-dock.ts), so that the dashboard's Devices view shows a fleet in
 * one command. Each dock announces its topology and state, answers upgrades,
 * and reports its new version after one.
 *
 * Exit codes: 0 stopped with Ctrl-C; 1 a dock could not connect; 2 bad flags.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_MQTT_URL, progressPlan, startDock, type DockSimulator } from './dji-dock';
import { integerFlag, numberFlag, parseFlags, runCli, UsageError } from './cli';
import { consoleOutput, silentOutput, type SimulatorOutput } from './output';

export const FLEET_USAGE = `Usage: npm run simulate:fleet -- --docks <n> [options]

Starts <n> simulated DJI docks, each with an aircraft, of mixed models (DJI Dock
with Matrice 30/30T, Dock 2 with Matrice 3D/3TD, Dock 3 with Matrice 4D/4TD) and
firmware versions, in one process. Each announces its topology and firmware state,
answers ota_create and reports its new version after an upgrade.

Options:
  --docks <n>             how many docks (1 to ${10_000}; required)
  --mqtt-url <url>        the broker (default ${DEFAULT_MQTT_URL})
  --consistency <share>   share of docks (0 to 1) whose devices need a consistency upgrade (default 0.1)
  --offline <share>       share of docks (0 to 1) that disconnect after announcing themselves (default 0)
  --flap <seconds>        every <seconds>, one random online dock disconnects and comes back 5 s later (default off)
  --prefix <text>         serial number prefix (default: random, so runs do not collide)
  --speed <x>             upgrades report x times faster (default 1)
  --upgrade-seconds <s>   how long one upgrade takes, download and install (default: 22 reports 300 ms apart, ~6.6 s)
  --fail-rate <share>     share (0 to 1) of upgrades that fail at 50 % with 312022 (default 0)
  --busy-rate <share>     share (0 to 1) of ota_create refused with 312015 dock busy (default 0)
  --verbose               print every message of every dock
  -h, --help              show this help
`;

/** A dock model with the aircraft that fly from it and the versions in circulation. */
interface FleetModel {
  readonly dock: string;
  readonly dockVersions: readonly string[];
  readonly aircraft: readonly string[];
  readonly aircraftVersions: readonly string[];
}

/** Model keys from DJI's product table (see src/inventory/models.ts); versions look like DJI's. */
export const FLEET_MODELS: readonly FleetModel[] = [
  { dock: '3-1-0', dockVersions: ['10.01.0205', '10.01.1612'], aircraft: ['0-67-0', '0-67-1'], aircraftVersions: ['10.01.0014', '10.01.1601'] },
  { dock: '3-2-0', dockVersions: ['10.01.3205', '10.01.3202', '10.02.0107'], aircraft: ['0-91-0', '0-91-1'], aircraftVersions: ['10.01.3205', '10.02.0107'] },
  { dock: '3-3-0', dockVersions: ['01.00.0001', '01.01.0102'], aircraft: ['0-100-0', '0-100-1'], aircraftVersions: ['01.00.0001', '01.01.0102'] },
];

export interface FleetOptions {
  readonly docks: number;
  readonly mqttUrl: string;
  readonly consistencyShare: number;
  readonly offlineShare: number;
  readonly flapSeconds: number | null;
  readonly prefix: string;
  readonly speed: number;
  readonly verbose: boolean;
  /** How long one upgrade takes, seconds; null: the dock simulator's pace. */
  readonly upgradeSeconds?: number | null;
  readonly failRate?: number;
  readonly busyRate?: number;
}

/** The plan for dock `i`: deterministic given the index, so a run is reproducible with the same prefix. */
export function fleetDock(i: number, options: Pick<FleetOptions, 'prefix' | 'consistencyShare' | 'offlineShare' | 'docks'>) {
  const model = FLEET_MODELS[i % FLEET_MODELS.length];
  const pick = <T>(list: readonly T[], salt: number) => list[(i * 7 + salt) % list.length];
  const sn = `${options.prefix}${String(i).padStart(5, '0')}`;
  return {
    gatewaySn: sn,
    dockModel: model.dock,
    firmwareVersion: pick(model.dockVersions, 1),
    aircraft: { sn: `${sn}UAV`, model: pick(model.aircraft, 3), firmwareVersion: pick(model.aircraftVersions, 5) },
    // Spread evenly over the fleet: every 1/share-th dock.
    consistencyUpgradeNeeded: options.consistencyShare > 0 && Math.floor(i * options.consistencyShare) !== Math.floor((i + 1) * options.consistencyShare),
    offline: options.offlineShare > 0 && Math.floor(i * options.offlineShare) !== Math.floor((i + 1) * options.offlineShare),
  };
}

export type FleetCommand = { readonly help: true } | { readonly help: false; readonly options: FleetOptions };

function share(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = numberFlag(flag, value);
  if (n < 0 || n > 1) throw new UsageError(`--${flag} must be a share from 0 to 1 (got ${value})`);
  return n;
}

/** Parses the flags (without `node` and the script). @throws UsageError naming the first bad or missing flag. */
export function parseFleetArgs(argv: readonly string[]): FleetCommand {
  const values = parseFlags(argv, {
    docks: { type: 'string' },
    'mqtt-url': { type: 'string' },
    consistency: { type: 'string' },
    offline: { type: 'string' },
    flap: { type: 'string' },
    prefix: { type: 'string' },
    speed: { type: 'string' },
    verbose: { type: 'boolean' },
    'upgrade-seconds': { type: 'string' },
    'fail-rate': { type: 'string' },
    'busy-rate': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return { help: true };
  if (values.docks === undefined) throw new UsageError('--docks is required');
  const docks = integerFlag('docks', values.docks);
  if (docks < 1 || docks > 10_000) throw new UsageError(`--docks must be from 1 to 10000 (got ${docks})`);
  const flap = values.flap === undefined ? null : numberFlag('flap', values.flap);
  if (flap !== null && !(flap > 0)) throw new UsageError(`--flap must be a number of seconds above 0 (got ${values.flap})`);
  const speed = values.speed === undefined ? 1 : numberFlag('speed', values.speed);
  if (!(speed > 0)) throw new UsageError(`--speed must be a number above 0 (got ${values.speed})`);
  const upgradeSeconds = values['upgrade-seconds'] === undefined ? undefined : numberFlag('upgrade-seconds', values['upgrade-seconds']);
  if (upgradeSeconds !== undefined && !(upgradeSeconds > 0)) throw new UsageError(`--upgrade-seconds must be a number above 0 (got ${values['upgrade-seconds']})`);
  const prefix = values.prefix ?? `SIM${randomBytes(2).toString('hex').toUpperCase()}`;
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(prefix)) throw new UsageError('--prefix must be 1 to 40 letters, digits, - or _');
  return {
    help: false,
    options: {
      docks,
      mqttUrl: values['mqtt-url'] ?? DEFAULT_MQTT_URL,
      consistencyShare: share('consistency', values.consistency, 0.1),
      offlineShare: share('offline', values.offline, 0),
      flapSeconds: flap,
      prefix,
      speed,
      verbose: values.verbose ?? false,
      upgradeSeconds,
      // Left out unless given.
      failRate: values['fail-rate'] === undefined ? undefined : share('fail-rate', values['fail-rate'], 0),
      busyRate: values['busy-rate'] === undefined ? undefined : share('busy-rate', values['busy-rate'], 0),
    },
  };
}

/** A running fleet. */
export interface Fleet {
  /** The docks connected now, by serial number. */
  readonly online: ReadonlyMap<string, DockSimulator>;
  close(): Promise<void>;
}

/** Connects the fleet, a few docks at a time (a broker takes a burst of connections better in waves). */
export async function startFleet(options: FleetOptions, out: SimulatorOutput = consoleOutput): Promise<Fleet> {
  const dockOutput = options.verbose ? out : { ...silentOutput, warn: out.warn };
  const online = new Map<string, DockSimulator>();
  const plans = Array.from({ length: options.docks }, (_, i) => fleetDock(i, options));
  const start = async (plan: ReturnType<typeof fleetDock>) => {
    const dock = await startDock({
      ...plan,
      mqttUrl: options.mqttUrl,
      speed: options.speed,
      output: dockOutput,
      ...(options.upgradeSeconds ? { intervalMs: (options.upgradeSeconds * 1000) / progressPlan().length } : {}),
      failRate: options.failRate,
      busyRate: options.busyRate,
    });
    online.set(plan.gatewaySn, dock);
    return dock;
  };
  const WAVE = 50;
  for (let i = 0; i < plans.length; i += WAVE) await Promise.all(plans.slice(i, i + WAVE).map(start));
  out.info(`${options.docks} docks connected (prefix ${options.prefix}); ${plans.filter((p) => p.consistencyUpgradeNeeded).length} need a consistency upgrade`);

  // Offline share: they announced themselves (topology and state take a moment to be sent), then leave.
  const leaving = plans.filter((p) => p.offline);
  if (leaving.length > 0) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const plan of leaving) {
      await online.get(plan.gatewaySn)?.close();
      online.delete(plan.gatewaySn);
    }
    out.info(`${leaving.length} docks went offline`);
  }

  let flapping: NodeJS.Timeout | undefined;
  let closed = false;
  if (options.flapSeconds !== null) {
    flapping = setInterval(() => {
      const sns = [...online.keys()];
      if (sns.length === 0 || closed) return;
      const sn = sns[Math.floor(Math.random() * sns.length)];
      const plan = plans.find((p) => p.gatewaySn === sn)!;
      void online.get(sn)?.close();
      online.delete(sn);
      out.info(`dock ${sn} went offline; back in 5 s`);
      setTimeout(() => {
        if (closed) return;
        start(plan).then(
          () => out.info(`dock ${sn} is back`),
          (error: unknown) => out.warn(`dock ${sn} could not reconnect: ${(error as Error).message}`),
        );
      }, 5000).unref();
    }, options.flapSeconds * 1000);
  }

  return {
    online,
    async close() {
      closed = true;
      clearInterval(flapping);
      await Promise.all([...online.values()].map((dock) => dock.close()));
      online.clear();
    },
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const command = parseFleetArgs(argv);
  if (command.help) {
    process.stdout.write(FLEET_USAGE);
    return 0;
  }
  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      consoleOutput.info(`${signal}: disconnecting the fleet (again to force)`);
      stopping = true;
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  const fleet: Fleet = await startFleet(command.options);
  if (!stopping) consoleOutput.info('Ctrl-C stops the fleet');
  await stopped;
  await fleet.close();
  consoleOutput.info('fleet disconnected');
  return 0;
}

if (require.main === module) void runCli('simulate:fleet', FLEET_USAGE, () => main(process.argv.slice(2)));
