import type { InvalidField } from '../graphql/errors';
import type { RolloutSettings } from './domain';

/**
 * Most targets one rollout may have. Its targets are written in the one
 * transaction that creates it (a few seconds of the writer at this size);
 * split a larger fleet into several rollouts, by model or by filter.
 */
export const MAX_ROLLOUT_TARGETS = 10_000;

/** Most packages one rollout hands out (one per model). */
export const MAX_ROLLOUT_PACKAGES = 50;

/** Bounds of the settings, each checked with the field named. */
export const SETTING_BOUNDS = {
  maxInProgress: { min: 1, max: 1000 },
  maxFailurePercentage: { min: 0, max: 100 },
  minFinishedBeforeThreshold: { min: 0, max: MAX_ROLLOUT_TARGETS },
  attemptsPerDevice: { min: 1, max: 10 },
  attemptTimeoutSeconds: { min: 1, max: 7 * 24 * 3600 },
} as const;

/** Defaults, as the GraphQL input declares them. */
export const DEFAULT_SETTINGS: RolloutSettings = {
  maxInProgress: 10,
  maxFailurePercentage: 10,
  minFinishedBeforeThreshold: 5,
  attemptsPerDevice: 2,
  attemptTimeoutSeconds: 1800,
};

/** What createRollout receives. */
export interface CreateRolloutRequest extends Partial<RolloutSettings> {
  readonly name: string;
  readonly packageIds: readonly string[];
  readonly target: { readonly deviceIds?: readonly string[] | null; readonly filter?: Record<string, unknown> | null };
  readonly startAt?: Date | null;
}

/** A checked request. */
export interface CheckedRollout {
  readonly name: string;
  readonly packageIds: string[];
  readonly deviceIds: string[] | null;
  readonly filter: Record<string, unknown> | null;
  readonly settings: RolloutSettings;
  readonly startAt: Date | null;
}

/** Checks everything that needs no database: field errors name `input.<field>` paths as the API shows them. */
export function validateCreateRollout(input: CreateRolloutRequest): { ok: true; value: CheckedRollout } | { ok: false; errors: InvalidField[] } {
  const errors: InvalidField[] = [];
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (name.length === 0 || name.length > 256) errors.push({ field: 'name', message: 'must be 1 to 256 characters' });

  const packageIds = [...(input.packageIds ?? [])];
  if (packageIds.length === 0) errors.push({ field: 'packageIds', message: 'must name at least one package' });
  else if (packageIds.length > MAX_ROLLOUT_PACKAGES) errors.push({ field: 'packageIds', message: `must name at most ${MAX_ROLLOUT_PACKAGES} packages` });
  else if (new Set(packageIds).size !== packageIds.length) errors.push({ field: 'packageIds', message: 'names a package twice' });

  const deviceIds = input.target?.deviceIds ?? null;
  const filter = input.target?.filter ?? null;
  if ((deviceIds === null) === (filter === null)) {
    errors.push({ field: 'target', message: 'must give exactly one of deviceIds and filter' });
  } else if (deviceIds !== null) {
    if (deviceIds.length === 0) errors.push({ field: 'target.deviceIds', message: 'must name at least one device' });
    else if (deviceIds.length > MAX_ROLLOUT_TARGETS) errors.push({ field: 'target.deviceIds', message: `must name at most ${MAX_ROLLOUT_TARGETS} devices` });
    else if (deviceIds.some((id) => typeof id !== 'string' || id.trim().length === 0 || id.length > 256)) {
      errors.push({ field: 'target.deviceIds', message: 'must be non-empty ids of at most 256 characters' });
    } else if (new Set(deviceIds).size !== deviceIds.length) errors.push({ field: 'target.deviceIds', message: 'names a device twice' });
  }

  const settings = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(SETTING_BOUNDS) as (keyof typeof SETTING_BOUNDS)[]) {
    const value = input[key];
    if (value === undefined || value === null) continue;
    const { min, max } = SETTING_BOUNDS[key];
    const whole = key !== 'maxFailurePercentage';
    if (typeof value !== 'number' || !Number.isFinite(value) || (whole && !Number.isInteger(value)) || value < min || value > max) {
      errors.push({ field: key, message: `must be ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}` });
    } else {
      settings[key] = value;
    }
  }
  const startAt = input.startAt ?? null;
  if (startAt !== null && (!(startAt instanceof Date) || Number.isNaN(startAt.getTime()))) errors.push({ field: 'startAt', message: 'must be a date-time' });

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: { name, packageIds, deviceIds: deviceIds ? [...deviceIds] : null, filter, settings, startAt },
  };
}
