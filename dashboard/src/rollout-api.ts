/*
 * The rollout operations the page sends and the shapes it gets back (see
 * `schema.graphql`: registerFirmwarePackage, createRollout, startRollout, …).
 */

export type RolloutStatus = 'SCHEDULED' | 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'CANCELED';
export type RolloutTargetStatus = 'QUEUED' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED' | 'CANCELED';
export type RolloutCommand = 'start' | 'pause' | 'resume' | 'cancel' | 'retryFailures';

export const ROLLOUT_STATUS_WORDS: Readonly<Record<RolloutStatus, string>> = {
  SCHEDULED: 'Scheduled',
  RUNNING: 'Running',
  PAUSED: 'Paused',
  COMPLETED: 'Completed',
  CANCELED: 'Canceled',
};

export const TARGET_STATUS_WORDS: Readonly<Record<RolloutTargetStatus, string>> = {
  QUEUED: 'Queued',
  IN_PROGRESS: 'In progress',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  SKIPPED: 'Skipped',
  CANCELED: 'Canceled',
};

export interface FirmwarePackage {
  id: string;
  model: string;
  modelName: string | null;
  version: string;
  fileName: string | null;
  createdAt: string;
}

export interface RolloutCounts {
  total: number;
  queued: number;
  inProgress: number;
  succeeded: number;
  failed: number;
  skipped: number;
  canceled: number;
}

export interface Rollout {
  id: string;
  name: string;
  status: RolloutStatus;
  pauseReason: 'MANUAL' | 'FAILURE_THRESHOLD' | null;
  packages: Pick<FirmwarePackage, 'id' | 'model' | 'modelName' | 'version'>[];
  maxInProgress: number;
  maxFailurePercentage: number;
  minFinishedBeforeThreshold: number;
  attemptsPerDevice: number;
  counts: RolloutCounts;
  progress: number;
  createdAt: string;
  startAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** ISO-8601; the newer of two copies wins. */
  updatedAt: string;
}

export interface RolloutTarget {
  id: string;
  deviceId: string;
  model: string | null;
  status: RolloutTargetStatus;
  attempts: number;
  lastError: string | null;
}

/**
 * Whether the gateway accepts `command` for a rollout as it stands (the rules
 * of `applyCommand` in src/rollouts/domain/rollout.ts): the page offers only
 * these, and the gateway still has the last word.
 */
export function commandAllowed(command: RolloutCommand, rollout: Pick<Rollout, 'status' | 'counts'>): boolean {
  switch (command) {
    case 'start':
      return rollout.status === 'SCHEDULED';
    case 'pause':
      return rollout.status === 'RUNNING';
    case 'resume':
      return rollout.status === 'PAUSED';
    case 'cancel':
      return rollout.status === 'SCHEDULED' || rollout.status === 'RUNNING' || rollout.status === 'PAUSED';
    case 'retryFailures':
      return rollout.status !== 'CANCELED' && rollout.counts.failed > 0;
  }
}

const PACKAGE_FIELDS = `id model modelName version fileName createdAt`;

const ROLLOUT_FIELDS = /* GraphQL */ `
  fragment RolloutFields on Rollout {
    id name status pauseReason maxInProgress maxFailurePercentage minFinishedBeforeThreshold attemptsPerDevice progress
    createdAt startAt startedAt finishedAt updatedAt
    packages { id model modelName version }
    counts { total queued inProgress succeeded failed skipped canceled }
  }`;

export const ROLLOUTS_QUERY = /* GraphQL */ `
  query DashboardRollouts($first: Int!, $after: String) {
    rollouts(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { ...RolloutFields } }
    }
  }
  ${ROLLOUT_FIELDS}`;

export interface RolloutsData {
  rollouts: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Rollout }[] };
}

export const ROLLOUT_QUERY = /* GraphQL */ `
  query DashboardRollout($id: ID!) { rollout(id: $id) { ...RolloutFields } }
  ${ROLLOUT_FIELDS}`;

/** Every rollout's changes of status or counts. */
export const ROLLOUT_CHANGED_SUBSCRIPTION = /* GraphQL */ `
  subscription DashboardRolloutChanged { rolloutChanged { ...RolloutFields } }
  ${ROLLOUT_FIELDS}`;

export const ROLLOUT_TARGETS_QUERY = /* GraphQL */ `
  query DashboardRolloutTargets($id: ID!, $first: Int!, $status: RolloutTargetStatus) {
    rollout(id: $id) {
      id
      targets(first: $first, status: $status) {
        totalCount
        edges { node { id deviceId model status attempts lastError } }
      }
    }
  }`;

export interface RolloutTargetsData {
  rollout: { id: string; targets: { totalCount: number; edges: { node: RolloutTarget }[] } } | null;
}

/** The mutation of each command; each returns the rollout as it now stands. */
export const COMMAND_MUTATIONS: Readonly<Record<RolloutCommand, { field: string; query: string }>> = Object.fromEntries(
  (
    [
      ['start', 'startRollout'],
      ['pause', 'pauseRollout'],
      ['resume', 'resumeRollout'],
      ['cancel', 'cancelRollout'],
      ['retryFailures', 'retryRolloutFailures'],
    ] as const
  ).map(([command, field]) => [
    command,
    { field, query: `mutation DashboardRolloutCommand($id: ID!) { ${field}(id: $id) { ...RolloutFields } } ${ROLLOUT_FIELDS}` },
  ]),
) as Record<RolloutCommand, { field: string; query: string }>;

export const CREATE_ROLLOUT = /* GraphQL */ `
  mutation DashboardCreateRollout($input: CreateRolloutInput!) { createRollout(input: $input) { ...RolloutFields } }
  ${ROLLOUT_FIELDS}`;

export const START_ROLLOUT = COMMAND_MUTATIONS.start.query;

export const PACKAGES_QUERY = /* GraphQL */ `
  query DashboardPackages($first: Int!) {
    firmwarePackages(first: $first, filter: { source: DJI }) { totalCount edges { node { ${PACKAGE_FIELDS} } } }
  }`;

export interface PackagesData {
  firmwarePackages: { totalCount: number; edges: { node: FirmwarePackage }[] };
}

export const REGISTER_PACKAGE = /* GraphQL */ `
  mutation DashboardRegisterPackage($input: RegisterFirmwarePackageInput!) { registerFirmwarePackage(input: $input) { ${PACKAGE_FIELDS} } }`;

/** The models the inventory knows, for the package form's suggestions. */
export const MODELS_QUERY = /* GraphQL */ `
  query DashboardModels { firmwareVersions(source: DJI) { model modelName firmwareVersion count } }`;

export interface ModelsData {
  firmwareVersions: { model: string | null; modelName: string | null; firmwareVersion: string | null; count: number }[];
}

/** How many inventory devices a target filter matches now. */
export const MATCHING_DEVICES_QUERY = /* GraphQL */ `
  query DashboardMatchingDevices($filter: DeviceFilter) { devices(first: 1, filter: $filter) { totalCount } }`;
