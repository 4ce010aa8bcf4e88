/*
 * The operations the page sends and the shapes it gets back. Written by hand
 * to keep the reference free of a codegen step; `schema.graphql` at the repo
 * root is the authority for names.
 */

export type UpgradeStatus =
  | 'PENDING'
  | 'SENT'
  | 'IN_PROGRESS'
  | 'PAUSED'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'CANCELED'
  | 'REJECTED'
  | 'TIMED_OUT';

/** The words shown for each status (the enum itself goes in `data-status`). */
export const STATUS_WORDS: Readonly<Record<UpgradeStatus, string>> = {
  PENDING: 'Pending',
  SENT: 'Sent',
  IN_PROGRESS: 'In progress',
  PAUSED: 'Paused',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  CANCELED: 'Canceled',
  REJECTED: 'Rejected',
  TIMED_OUT: 'Timed out',
};

/** Statuses a device never leaves. */
export const TERMINAL: ReadonlySet<UpgradeStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELED', 'REJECTED', 'TIMED_OUT']);

export interface SubTask {
  id: string;
  deviceId: string;
  status: UpgradeStatus;
  vendorStatus: string | null;
  step: string | null;
  percent: number | null;
  sourceVersion: string | null;
  currentVersion: string | null;
  targetVersion: string | null;
  statusDesc: string | null;
  errorCode: string | null;
  /** ISO-8601; the newer of two copies of a row wins. */
  updatedAt: string;
}

export interface Task {
  id: string;
  source: 'HUAWEI' | 'DJI';
  kind: 'FIRMWARE' | 'SOFTWARE';
  externalId: string;
  gatewaySn: string | null;
  status: UpgradeStatus;
  progress: number | null;
  createdAt: string;
  updatedAt: string;
}

/** A task with the first page of its devices (20; `totalCount` says how many there are). */
export interface TaskWithSubTasks extends Task {
  subTasks: { totalCount: number; nodes: SubTask[] };
}

const TASK_FIELDS = /* GraphQL */ `
  fragment TaskFields on UpgradeTask {
    id source kind externalId gatewaySn status progress createdAt updatedAt
  }`;

const SUB_TASK_FIELDS = /* GraphQL */ `
  fragment SubTaskFields on UpgradeSubTask {
    id deviceId status vendorStatus step percent
    sourceVersion currentVersion targetVersion statusDesc errorCode updatedAt
  }`;

export const TASKS_QUERY = /* GraphQL */ `
  query DashboardTasks($first: Int!, $after: String) {
    upgradeTasks(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { ...TaskFields subTasks(first: 20) { totalCount nodes { ...SubTaskFields } } } }
    }
  }
  ${TASK_FIELDS}
  ${SUB_TASK_FIELDS}`;

export interface TasksData {
  upgradeTasks: {
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: TaskWithSubTasks }[];
  };
}

export const TASK_QUERY = /* GraphQL */ `
  query DashboardTask($id: ID!) {
    upgradeTask(id: $id) { ...TaskFields subTasks(first: 20) { totalCount nodes { ...SubTaskFields } } }
  }
  ${TASK_FIELDS}
  ${SUB_TASK_FIELDS}`;

export interface TaskData {
  upgradeTask: TaskWithSubTasks | null;
}

/*
 * No filter: the page shows every task. `after` is the `cursor` of the last
 * message applied, so a resumed subscription replays exactly what was
 * missed while the socket was down.
 */
export const PROGRESS_SUBSCRIPTION = /* GraphQL */ `
  subscription DashboardProgress($after: String) {
    upgradeProgress(after: $after) {
      task { ...TaskFields }
      subTask { ...SubTaskFields }
      cursor
    }
  }
  ${TASK_FIELDS}
  ${SUB_TASK_FIELDS}`;

export interface ProgressData {
  upgradeProgress: { task: Task; subTask: SubTask; cursor: string };
}

export const CREATE_FIRMWARE_UPGRADE = /* GraphQL */ `
  mutation DashboardCreateFirmwareUpgrade($input: CreateFirmwareUpgradeInput!) {
    createFirmwareUpgrade(input: $input) { ...TaskFields subTasks(first: 20) { totalCount nodes { ...SubTaskFields } } }
  }
  ${TASK_FIELDS}
  ${SUB_TASK_FIELDS}`;

export interface CreateFirmwareUpgradeData {
  createFirmwareUpgrade: TaskWithSubTasks;
}

export type FirmwareUpgradeType = 'CONSISTENT' | 'REGULAR' | 'PSDK';

export interface FirmwareUpgradeDeviceInput {
  sn: string;
  productVersion: string;
  fileUrl: string;
  md5: string;
  fileSize: number;
  fileName: string;
  firmwareUpgradeType: FirmwareUpgradeType;
}

export interface CreateFirmwareUpgradeInput {
  gatewaySn: string;
  devices: FirmwareUpgradeDeviceInput[];
}
