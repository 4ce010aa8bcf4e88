/** The bench's sizes and switches. */
export interface BenchOptions {
  /** Scenario 1: ota_progress messages published. */
  readonly messages: number;
  /** Scenario 1: MQTT publisher clients. */
  readonly publishers: number;
  /** Scenario 1: QoS 1 messages each publisher keeps unacknowledged at most. */
  readonly window: number;
  /** Scenario 2: Huawei pushes. */
  readonly pushes: number;
  /** Scenario 2: requests in flight. */
  readonly concurrency: number;
  /** Scenario 3 and 5: graphql-ws sockets, one subscription each. */
  readonly subscribers: number;
  /** Scenario 3: progress events fanned out. */
  readonly rounds: number;
  /** Scenario 4: progress events stored. */
  readonly events: number;
  /** Scenario 4: tasks stored. */
  readonly tasks: number;
  /** Scenario 4: sequential requests per query. */
  readonly requests: number;
  /** Task-size scenario: devices of each task the pushes go into. */
  readonly taskSizes: readonly number[];
  /** Inventory scenario: devices stored. */
  readonly devices: number;
  /** Rollout: simulated docks in the rollout. */
  readonly docks: number;
  /** Rollout: its maxInProgress. */
  readonly cap: number;
  /** Rollout: how long each simulated upgrade takes, ms. */
  readonly upgrade: number;
  /** Fleet: simulated docks, each reporting one ota_progress a second. */
  readonly fleetDocks: number;
  /** Fleet: graphql-ws subscribers (90 % one task, 9 % one dock, 1 % everything). */
  readonly fleetSubscribers: number;
  /** Fleet: seconds measured at the asked size. */
  readonly fleetSeconds: number;
  /** Fleet: steps of the search for the largest fleet sustained (0: none). */
  readonly fleetSearch: number;
  /** Runs of each scenario; every figure is the median of its runs. */
  readonly repeat: number;
  /** Scenarios to run. */
  readonly only: readonly ScenarioName[];
  /** Write V8 CPU profiles of the gateway processes under bench/results/profiles/. */
  readonly profile: boolean;
  /** Where the JSON goes. */
  readonly out: string | null;
  /** Print the table as Markdown. */
  readonly markdown: boolean;
  readonly smoke: boolean;
}

export const SCENARIOS = ['mqtt', 'webhook', 'fanout', 'query', 'taskSize', 'inventory', 'rollout', 'fleet'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

const DEFAULTS = {
  messages: 20_000,
  publishers: 4,
  window: 100,
  pushes: 10_000,
  concurrency: 32,
  subscribers: 1_000,
  rounds: 20,
  events: 100_000,
  tasks: 10_000,
  requests: 200,
  devices: 10_000,
  docks: 1_000,
  cap: 100,
  upgrade: 1_000,
  fleetDocks: 2_000,
  fleetSubscribers: 1_000,
  fleetSeconds: 60,
  fleetSearch: 3,
  repeat: 1,
};

/** `--smoke`: every scenario, tiny, for CI (well under a minute). Explicit sizes still win. */
const SMOKE = {
  messages: 300,
  publishers: 2,
  pushes: 300,
  subscribers: 20,
  rounds: 3,
  events: 2_000,
  tasks: 200,
  requests: 20,
  devices: 500,
  docks: 50,
  cap: 10,
  upgrade: 200,
  fleetDocks: 50,
  fleetSubscribers: 20,
  fleetSeconds: 5,
  fleetSearch: 0,
};

const NUMERIC = Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[];
/** The command-line name of a size: fleetDocks is --fleet-docks. */
const flagOf = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const KEY_OF_FLAG = new Map(NUMERIC.map((key) => [flagOf(key), key]));
/** Sizes that may be 0. */
const MAY_BE_ZERO = new Set<string>(['fleetSearch']);

/** Task-size scenario: the sizes, at full and smoke sizes alike (seeding 50 000 sub-tasks takes a second or two). */
const DEFAULT_TASK_SIZES = [10, 1_000, 50_000];

export const USAGE = `Usage: npm run bench -- [options]

  --messages N     MQTT ingest: ota_progress messages (default ${DEFAULTS.messages})
  --publishers N   MQTT ingest: publisher clients (default ${DEFAULTS.publishers})
  --window N       MQTT ingest: unacknowledged QoS 1 messages per publisher (default ${DEFAULTS.window})
  --pushes N       webhook ingest: Huawei pushes (default ${DEFAULTS.pushes})
  --concurrency N  webhook ingest: requests in flight (default ${DEFAULTS.concurrency})
  --subscribers K  fan-out and memory: graphql-ws sockets, one subscription each (default ${DEFAULTS.subscribers})
  --rounds R       fan-out: events fanned out (default ${DEFAULTS.rounds})
  --events N       query: progress events stored (default ${DEFAULTS.events})
  --tasks N        query: tasks stored (default ${DEFAULTS.tasks})
  --requests N     query and inventory: sequential requests per query (default ${DEFAULTS.requests})
  --task-sizes L   task size: comma-separated devices per task, pushes (--pushes) go into each (default ${DEFAULT_TASK_SIZES.join(',')})
  --devices N      inventory: devices stored (default ${DEFAULTS.devices})
  --docks N        rollout: simulated docks in the rollout (default ${DEFAULTS.docks})
  --cap N          rollout: its maxInProgress (default ${DEFAULTS.cap})
  --upgrade MS     rollout: how long each simulated upgrade takes (default ${DEFAULTS.upgrade})
  --fleet-docks N        fleet: docks, each reporting one ota_progress a second (default ${DEFAULTS.fleetDocks})
  --fleet-subscribers K  fleet: graphql-ws subscribers, 90 % one task, 9 % one dock, 1 % all (default ${DEFAULTS.fleetSubscribers})
  --fleet-seconds S      fleet: seconds measured (default ${DEFAULTS.fleetSeconds}; search steps at most 20)
  --fleet-search N       fleet: runs looking for the largest fleet sustained (1.5× steps, then bisection; up to 5 more while none held), 0 for none (default ${DEFAULTS.fleetSearch})
  --repeat N       runs of each scenario, gateway and baseline each time; every figure is the median (default ${DEFAULTS.repeat})
  --only LIST      comma-separated subset of ${SCENARIOS.join(',')} (default: all)
  --profile        write V8 CPU profiles of the gateway to bench/results/profiles/
  --out FILE       JSON output (default bench/results/latest.json)
  --markdown       print the table as Markdown
  --smoke          tiny sizes for CI (explicit sizes still apply)
  --help`;

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): BenchOptions | 'help' {
  const given: Record<string, string> = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (name === 'help') return 'help';
    if (name === 'smoke' || name === 'profile' || name === 'markdown') {
      flags.add(name);
      continue;
    }
    if (!KEY_OF_FLAG.has(name) && name !== 'only' && name !== 'out' && name !== 'task-sizes') throw new UsageError(`unknown option --${name}`);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
    given[name] = value;
  }
  const smoke = flags.has('smoke');
  const sizes = { ...DEFAULTS, ...(smoke ? SMOKE : {}) } as Record<keyof typeof DEFAULTS, number>;
  for (const name of NUMERIC) {
    const flag = flagOf(name);
    if (given[flag] === undefined) continue;
    const n = Number(given[flag]);
    const least = MAY_BE_ZERO.has(name) ? 0 : 1;
    if (!Number.isSafeInteger(n) || n < least) throw new UsageError(`--${flag} must be a ${least === 0 ? 'whole number' : 'positive whole number'}`);
    sizes[name] = n;
  }
  let only: ScenarioName[] = [...SCENARIOS];
  if (given.only !== undefined) {
    only = given.only.split(',').map((s) => s.trim()) as ScenarioName[];
    const bad = only.filter((s) => !SCENARIOS.includes(s));
    if (bad.length) throw new UsageError(`--only: unknown scenario ${bad.join(', ')} (known: ${SCENARIOS.join(', ')})`);
  }
  let taskSizes = DEFAULT_TASK_SIZES;
  if (given['task-sizes'] !== undefined) {
    taskSizes = given['task-sizes'].split(',').map((v) => Number(v.trim()));
    if (taskSizes.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new UsageError('--task-sizes must be positive whole numbers, comma-separated');
  }
  if (sizes.tasks * 2 > sizes.events) throw new UsageError('--events must be at least twice --tasks (two sub-tasks per task, one event each)');
  return { ...sizes, taskSizes, only, profile: flags.has('profile'), markdown: flags.has('markdown'), out: given.out ?? null, smoke };
}
