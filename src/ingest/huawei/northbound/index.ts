import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { HuaweiConfig } from '../../../config';
import { UpgradeSource } from '../../../domain';
import { badUserInput, codedError, ErrorCode } from '../../../graphql/errors';
import { Periodic } from '../../../maintenance/periodic';
import type { Clock } from '../../../recorder/clock';
import type { Recorder } from '../../../recorder/recorder';
import type { WriteQueue } from '../../../recorder/write-queue';
import { StartupError } from '../../../startup-error';
import { UpgradeTask } from '../../../store/entities';
import { CallbackRegistration } from './callback-registration';
import { HuaweiNorthboundClient, safeError } from './client';
import { HuaweiReconciler } from './reconciler';
import { PostgresTokenStore } from './token-store';
import { HuaweiUpgradeStarter, upstreamError, type HuaweiUpgradeRequest } from './upgrades';

export { HuaweiNorthboundClient, NorthboundError } from './client';
export type { HuaweiUpgradeRequest } from './upgrades';

/** What the GraphQL layer and the rollouts call on the Huawei command side. */
export interface HuaweiUpgrades {
  /**
   * Creates the upgrade on the platform and stores it (externalId = operationId,
   * one PENDING sub-task per device), published to subscribers.
   * @throws GraphQLError BAD_USER_INPUT (nothing called) or UPSTREAM_ERROR (nothing stored)
   */
  startHuaweiUpgrade(request: HuaweiUpgradeRequest): Promise<UpgradeTask>;
  /**
   * Reads a Huawei task back from the platform now and records what is new.
   * @returns the task as it stands after, or null when there is no such task
   * @throws GraphQLError BAD_USER_INPUT for a task of another platform, UPSTREAM_ERROR when the platform fails
   */
  reconcileHuaweiTask(taskId: string): Promise<UpgradeTask | null>;
}

/** What {@link startHuaweiCommandSide} needs from the gateway. */
export interface HuaweiCommandSideDependencies {
  readonly config: HuaweiConfig;
  readonly queue: WriteQueue;
  readonly recorder: Recorder;
  /** Where open tasks are read from. */
  readonly dataSource: DataSource;
  /** The writer's data source: on PostgreSQL the instances share the platform token there. */
  readonly sharedDataSource?: DataSource;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Client options for tests (faster backoff). */
  readonly clientOverrides?: { readonly backoffMs?: number; readonly timeoutMs?: number; readonly maxAttempts?: number };
  /** Registration backoff for tests. */
  readonly registrationBackoffMs?: number;
}

/** The running Huawei command side: client, callback registration, reconciliation timer. */
export interface HuaweiCommandSide extends HuaweiUpgrades {
  readonly client: HuaweiNorthboundClient;
  /** Null without HUAWEI_CALLBACK_URL. */
  readonly registration: CallbackRegistration | null;
  readonly reconciler: HuaweiReconciler;
  /** Starts and stores upgrades (the rollouts send their Huawei waves through it). */
  readonly upgrades: HuaweiUpgradeStarter;
  stop(): Promise<void>;
}

function readPem(variable: string, file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    throw new StartupError(`${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * Starts the Huawei command side: reads the certificate files, starts the
 * callback registration (with HUAWEI_CALLBACK_URL) and the reconciliation timer.
 * @throws StartupError naming the variable of an unreadable file
 */
export function startHuaweiCommandSide(deps: HuaweiCommandSideDependencies): HuaweiCommandSide {
  const { config, logger } = deps;
  if (config.allowInsecureHttp && config.apiUrl.startsWith('http:')) {
    logger.warn({ apiUrl: config.apiUrl }, 'HUAWEI_ALLOW_INSECURE_HTTP: the Huawei secret and tokens travel unencrypted; use this with a local simulator only');
  }
  const tls = {
    cert: readPem('HUAWEI_CLIENT_CERT_FILE', config.clientCertFile),
    key: readPem('HUAWEI_CLIENT_KEY_FILE', config.clientKeyFile),
    ca: readPem('HUAWEI_CA_FILE', config.caFile),
  };
  const client = new HuaweiNorthboundClient({
    baseUrl: config.apiUrl,
    appId: config.appId,
    secret: config.secret,
    tls,
    // On PostgreSQL the instances share one token (only the latest one issued is valid).
    tokenStore: deps.sharedDataSource?.options.type === 'postgres' ? new PostgresTokenStore(deps.sharedDataSource, config.appId) : undefined,
    clock: deps.clock,
    logger: logger.child({ component: 'huawei-northbound' }),
    ...deps.clientOverrides,
  });
  const starter = new HuaweiUpgradeStarter({ client, appId: config.appId, queue: deps.queue, recorder: deps.recorder, clock: deps.clock, logger: logger.child({ component: 'huawei-upgrades' }) });
  const reconcilerLogger = logger.child({ component: 'huawei-reconciler' });
  const reconciler = new HuaweiReconciler({ client, queue: deps.queue, recorder: deps.recorder, dataSource: deps.dataSource, logger: reconcilerLogger });
  const registration = config.callbackUrl
    ? new CallbackRegistration({ client, callbackUrl: config.callbackUrl, logger: logger.child({ component: 'huawei-callback' }), backoffMs: deps.registrationBackoffMs })
    : null;
  registration?.run();
  const timer = new Periodic(
    () => reconciler.reconcileOpenTasks(),
    config.reconcileIntervalMs,
    (error) => reconcilerLogger.error({ err: safeError(error) }, 'Huawei reconciliation run failed'),
  );
  // The first run comes one interval after start: the callback is being registered meanwhile.
  timer.start(config.reconcileIntervalMs);

  return {
    client,
    registration,
    reconciler,
    upgrades: starter,
    startHuaweiUpgrade: (request) => starter.start(request),
    async reconcileHuaweiTask(taskId: string) {
      const task = await deps.dataSource.getRepository(UpgradeTask).findOne({ where: { id: taskId } });
      if (!task) return null;
      if (task.source !== UpgradeSource.HUAWEI) throw badUserInput('Not a Huawei task', [{ field: 'id', message: `is a ${task.source} task` }]);
      try {
        const outcome = await reconciler.reconcileTask(task);
        if (!outcome.known) throw codedError(ErrorCode.NOT_FOUND, `The Huawei platform no longer knows operation ${task.externalId}; the task is left as it is`);
      } catch (error) {
        if (error instanceof Error && error.name === 'GraphQLError') throw error;
        throw upstreamError(error);
      }
      return deps.dataSource.getRepository(UpgradeTask).findOne({ where: { id: taskId } });
    },
    async stop() {
      await registration?.stop();
      reconciler.halt();
      await timer.stop();
      client.close();
    },
  };
}

/** The mutation's answer when HUAWEI_* are not set. */
export function huaweiCommandSideOff(): Error {
  return codedError(
    ErrorCode.NOT_IMPLEMENTED,
    'Huawei upgrades are not available: set HUAWEI_API_URL, HUAWEI_APP_ID and HUAWEI_SECRET to turn the Huawei command side on',
  );
}
