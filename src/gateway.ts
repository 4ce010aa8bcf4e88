import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { join } from 'node:path';
import { buildApp, closeApp } from './app';
import { configSecrets, type Config } from './config';
import { UpgradeSource } from './domain';
import type { FirmwareUpgradeStarter, GraphQLServices } from './graphql/context';
import { buildGatewaySchema } from './graphql/schema';
import { DjiCommandSender } from './ingest/dji/command-sender';
import { djiMessageHandler } from './ingest/dji/ingest';
import { startHuaweiCommandSide, type HuaweiCommandSide, type HuaweiCommandSideDependencies } from './ingest/huawei/northbound';
import { DJI_SUBSCRIPTIONS } from './ingest/dji/protocol';
import { LedgerPruner, SqliteFileGuard, StaleSweeper } from './maintenance';
import { MqttConnection } from './mqtt/connection';
import { CredentialStore } from './mqtt/credentials';
import { startEmbeddedBroker, type EmbeddedBroker } from './mqtt/embedded-broker';
import { MqttSessionRegistry } from './mqtt/session-registry';
import { type Clock, systemClock } from './recorder/clock';
import { Recorder } from './recorder/recorder';
import { WriteQueue } from './recorder/write-queue';
import { dashboardPlugin } from './server/dashboard.plugin';
import { graphiqlPlugin } from './server/graphiql.plugin';
import { createLogger } from './server/log-redaction';
import { createMetrics, type Metrics } from './server/metrics';
import { createGatewayPubSub, pubSubEventBus, type PubSubHandle } from './server/pubsub';
import { listenError, StartupError } from './startup-error';
import { createServer } from 'node:net';
import { openDatabase, openReadDataSource } from './store/data-source';
import { ReadStore } from './store/read-store';
import { Inventory } from './inventory/inventory';
import { DeviceReadStore } from './inventory/device-reads';
import { DockPresence, markDjiOfflineAtStart } from './inventory/presence';
import { TOPICS } from './recorder/event-bus';
import { startRollouts } from './rollouts';

/** Units waiting for the writer beyond which MQTT messages wait to be handed to it (four batches: a push waits behind at most that). */
const MQTT_BACKLOG_LIMIT = 2048;

/** How long start-up waits for Redis (with REDIS_URL) before giving up. */
const REDIS_CONNECT_TIMEOUT_MS = 10_000;

/** Resolves as `promise` does, or rejects with `error()` after `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(error()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Loopback addresses: an anonymous embedded broker listens on nothing else unless told to. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Where the embedded broker listens and whom it lets in: with a password file,
 * on MQTT_HOST for docks with credentials; without one, anonymous clients on
 * loopback only, unless MQTT_ALLOW_ANONYMOUS=true opens MQTT_HOST to them.
 * @throws StartupError naming MQTT_PASSWORD_FILE when the credentials cannot be read.
 */
function embeddedBrokerAccess(config: Config, logger: Logger): { host: string; credentials: CredentialStore | undefined } {
  const { passwordFile, identityFile, allowAnonymous } = config.mqttBroker;
  if (passwordFile) {
    try {
      const credentials = new CredentialStore({ passwordFile, identityFile }, logger);
      logger.info({ users: credentials.size }, 'MQTT credentials loaded; anonymous clients are refused');
      return { host: config.mqttHost, credentials };
    } catch (error) {
      throw new StartupError(`MQTT_PASSWORD_FILE: ${(error as Error).message}`);
    }
  }
  if (allowAnonymous) {
    logger.warn(
      { host: config.mqttHost },
      'MQTT_ALLOW_ANONYMOUS=true: the embedded broker lets ANY client connect without a password on MQTT_HOST and act as the dock it names; set MQTT_PASSWORD_FILE instead',
    );
    return { host: config.mqttHost, credentials: undefined };
  }
  if (LOOPBACK_HOSTS.has(config.mqttHost)) return { host: config.mqttHost, credentials: undefined };
  logger.warn(
    { host: '127.0.0.1', mqttHost: config.mqttHost },
    'no MQTT_PASSWORD_FILE: the embedded broker listens on loopback only; set MQTT_PASSWORD_FILE for docks on other hosts',
  );
  return { host: '127.0.0.1', credentials: undefined };
}

/** Options for tests and tools; production uses the defaults. */
export interface GatewayOptions {
  readonly clock?: Clock;
  /** Defaults to a pino logger at `config.logLevel`. */
  readonly logger?: Logger;
  /** How long to wait for the first MQTT connection at start. @default 10000 */
  readonly mqttConnectTimeoutMs?: number;
  /** Faster retries of the Huawei command side (tests). */
  readonly huawei?: Pick<HuaweiCommandSideDependencies, 'clientOverrides' | 'registrationBackoffMs'>;
}

/** A running gateway. */
export interface Gateway {
  readonly config: Config;
  readonly app: FastifyInstance;
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:4000. */
  readonly url: string;
  /** The broker the gateway uses (the embedded one's URL when MQTT_URL is unset). */
  readonly mqttUrl: string;
  /** The writer's connection (every write goes through `writeQueue`). */
  readonly dataSource: DataSource;
  /** The connection the API reads through (see `openReadDataSource`). */
  readonly readDataSource: DataSource;
  readonly recorder: Recorder;
  readonly writeQueue: WriteQueue;
  readonly metrics: Metrics;
  readonly mqtt: MqttConnection;
  /** The Huawei command side; null without HUAWEI_* settings. */
  readonly huawei: HuaweiCommandSide | null;
  /** Stops everything in order; safe to call twice. */
  close(): Promise<void>;
}

/**
 * The composition root: wires configuration, database, broker, MQTT client,
 * pub/sub, recorder and servers, and starts listening. Whatever was started
 * before a failure is stopped again before the error is rethrown.
 */
export async function startGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, secrets: configSecrets(config) });
  const clock = options.clock ?? systemClock;
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) {
      await stop().catch((error) => logger.error({ err: error }, 'error while stopping'));
    }
  };

  try {
    // A port already taken fails the start before anything is created (./data/… included).
    await assertPortFree(config.host, config.port, 'PORT');
    if (!config.mqttUrl) {
      const { passwordFile, allowAnonymous } = config.mqttBroker;
      // The address embeddedBrokerAccess will choose (without its log lines, which come once the broker starts).
      const brokerHost = passwordFile || allowAnonymous || LOOPBACK_HOSTS.has(config.mqttHost) ? config.mqttHost : '127.0.0.1';
      await assertPortFree(brokerHost, config.mqttPort, 'MQTT_PORT');
    }
    const metrics = createMetrics();
    const dataSource = await openDatabase(config.database);
    stops.push(() => dataSource.destroy());
    const readDataSource = await openReadDataSource(config.database, dataSource);
    if (readDataSource !== dataSource) stops.push(() => readDataSource.destroy());
    // SQLite keeps committing to a database file deleted or moved from under it: refuse instead.
    const fileGuard =
      config.database.engine === 'sqlite' && config.database.path !== ':memory:' ? new SqliteFileGuard(config.database.path) : null;

    const pubSub: PubSubHandle = createGatewayPubSub(config.redisUrl, { channelPrefix: config.redisChannelPrefix });
    stops.push(() => pubSub.close());
    await withTimeout(pubSub.ready, REDIS_CONNECT_TIMEOUT_MS, () => new StartupError(`REDIS_URL: Redis not reachable within ${REDIS_CONNECT_TIMEOUT_MS / 1000} s`));

    const writeQueue = new WriteQueue(dataSource, {
      onBatch: (size, seconds) => {
        metrics.recorderBatchSize.observe(size);
        metrics.recorderCommitSeconds.observe(seconds);
      },
      onHookError: (error) => logger.error({ err: error }, 'after-commit hook failed'),
      beforeCommit: fileGuard ? () => fileGuard.check() : undefined,
    });
    // Finish every commit in flight before the database closes.
    stops.push(() => writeQueue.whenIdle());
    const inventory = new Inventory((device) => pubSub.pubSub.publish(TOPICS.DEVICE_CHANGED, device));
    const recorder = new Recorder(writeQueue, pubSubEventBus(pubSub.pubSub), { clock, inventory });
    const pruner = new LedgerPruner({
      queue: writeQueue,
      clock,
      retentionDays: config.ledgerRetentionDays,
      logger: logger.child({ component: 'ledger-pruner' }),
    });
    pruner.run();
    stops.push(() => pruner.stop());
    const store = new ReadStore(readDataSource);

    // The handler replies through the connection it is handed to; it only publishes once messages flow.
    const publish = (topic: string, payload: string) => connection.publish(topic, payload);
    const onDjiMessage = djiMessageHandler({
      recorder,
      publish,
      metrics,
      clock,
      logger: logger.child({ component: 'dji' }),
      answerStatus: config.djiAnswerStatus,
    });
    let broker: EmbeddedBroker | null = null;
    if (!config.mqttUrl) {
      // The inventory: docks are online while connected to this broker, which starts with none.
      await markDjiOfflineAtStart(writeQueue, clock.now());
      const presence = new DockPresence({ queue: writeQueue, inventory, clock, logger: logger.child({ component: 'presence' }) });
      stops.push(async () => presence.stop());
      // The docks' messages are taken inside the broker, acknowledged once stored (see startEmbeddedBroker);
      // like the client below, they wait while the writer's backlog is full (see MQTT_BACKLOG_LIMIT).
      const brokerLogger = logger.child({ component: 'mqtt-broker' });
      const access = embeddedBrokerAccess(config, brokerLogger);
      broker = await startEmbeddedBroker(
        access.host,
        config.mqttPort,
        {
          filters: DJI_SUBSCRIPTIONS,
          onMessage: async (topic, payload, delivery) => {
            await writeQueue.whenRoom(MQTT_BACKLOG_LIMIT);
            return onDjiMessage(topic, payload, delivery);
          },
        },
        {
          credentials: access.credentials,
          gatewayClientId: config.mqttClientId,
          limits: config.mqttBroker.limits,
          logger: brokerLogger,
          onEvent: (event) => {
            if (event.type === 'refused') metrics.mqttBrokerRefused.inc({ action: event.action });
            else if (event.type === 'dropped') metrics.mqttBrokerDropped.inc();
            else metrics.mqttBrokerUnretained.inc();
          },
        },
        { onClientPresence: presence.onClientPresence },
      );
      const started = broker;
      stops.push(() => started.close());
      logger.info({ host: access.host, port: broker.port, authentication: access.credentials ? 'password file' : 'anonymous' }, 'embedded MQTT broker listening');
    }
    const mqttUrl = config.mqttUrl ?? broker!.url;
    // With an external broker several instances share the work: each message goes to one of them.
    // With the embedded one, the client only publishes (commands and replies).
    const subscriptions = !config.mqttUrl
      ? []
      : config.mqttSharedGroup
        ? DJI_SUBSCRIPTIONS.map((topic) => `$share/${config.mqttSharedGroup}/${topic}`)
        : [...DJI_SUBSCRIPTIONS];
    // PostgreSQL with a shared group: instances that die are found and their sessions drained by the others.
    if (config.mqttUrl && config.mqttSharedGroup !== null && config.database.engine === 'postgres') {
      const registry = new MqttSessionRegistry(config.database.url, {
        broker: mqttUrl.replace(/\/\/[^@/]*@/, '//'),
        clientId: config.mqttClientId,
        group: config.mqttSharedGroup,
        logger: logger.child({ component: 'mqtt-sessions' }),
        // Its lock went with a broken database connection and another instance drains the session: pause, then consume again.
        onReclaimed: () => connection.resume(),
        onTakenOver: () => connection.pause(),
        adopt: async (clientId) => {
          const orphan = new MqttConnection({
            url: mqttUrl,
            clientId,
            protocolVersion: 5,
            sessionExpirySeconds: config.mqttSessionExpirySeconds,
            endSessionOnClose: true,
            username: config.mqttUsername,
            password: config.mqttPassword,
            subscriptions,
            subscribeOnConnect: false,
            logger: logger.child({ component: 'mqtt', adopted: clientId }),
            onMessage: onDjiMessage,
            admit: () => writeQueue.whenRoom(MQTT_BACKLOG_LIMIT),
          });
          const connected = await orphan.waitConnected(10_000).then(
            () => true,
            () => false,
          );
          const ended = await orphan.close();
          // Not drained (its owner came back and took the session, or the broker went away): listed still, tried again.
          if (!connected || !ended) throw new Error(`the session of ${clientId} was not drained`);
        },
      });
      // Listed (and locked) before connecting; removed only once the connection has closed (stops run in reverse).
      await registry.start();
      stops.push(() => registry.stop());
    }
    const connection: MqttConnection = new MqttConnection({
      url: mqttUrl,
      clientId: config.mqttClientId,
      persistentSession: !config.mqttCleanSession,
      // MQTT 5 with an external broker: a session that ends when its instance stops, or expires after
      // a crash, so an instance gone for good holds no share of the group's traffic. The embedded aedes speaks 3.1.1.
      protocolVersion: config.mqttUrl ? 5 : 4,
      sessionExpirySeconds: config.mqttSessionExpirySeconds,
      // A clean stop hands the instance's share to the group's other members and ends its session; with no
      // group, or on SQLite (one instance by construction), there is no other member: the session is kept
      // for MQTT_SESSION_EXPIRY_SECONDS, and a restart gets what came meanwhile.
      endSessionOnClose: config.mqttUrl !== undefined && config.mqttSharedGroup !== null && config.database.engine === 'postgres',
      // The embedded broker reserves the gateway's client id for its own client, which logs in with a per-process secret.
      username: broker ? broker.gatewayCredentials.username : config.mqttUsername,
      password: broker ? broker.gatewayCredentials.password : config.mqttPassword,
      subscriptions,
      logger: logger.child({ component: 'mqtt' }),
      onMessage: onDjiMessage,
      // Read on from the broker only while the writer has room (see MQTT_BACKLOG_LIMIT).
      admit: () => writeQueue.whenRoom(MQTT_BACKLOG_LIMIT),
    });
    stops.push(() => connection.close());
    await connection.waitConnected(options.mqttConnectTimeoutMs ?? 10_000);
    const sweeper = new StaleSweeper({
      recorder,
      clock,
      staleAfterMs: config.staleAfterMs,
      logger: logger.child({ component: 'stale-sweeper' }),
      listening: { [UpgradeSource.DJI]: () => connection.ready },
    });
    sweeper.run();
    stops.push(() => sweeper.stop());

    const commands = new DjiCommandSender({
      queue: writeQueue,
      recorder,
      publish,
      clock,
      logger: logger.child({ component: 'dji-commands' }),
      replyTimeoutMs: config.djiReplyTimeoutMs,
      sendAttempts: config.djiSendAttempts,
      // Sends are made and counted only while connected (no attempts burnt during an outage).
      connected: () => connection.connected,
    });
    recorder.setReplyCorrelator(commands);
    commands.run();
    stops.push(() => commands.stop());
    const firmwareUpgrades: FirmwareUpgradeStarter = commands;
    // The Huawei command side (northbound API), only with HUAWEI_* set.
    const huawei = config.huawei
      ? startHuaweiCommandSide({ config: config.huawei, queue: writeQueue, recorder, dataSource: readDataSource, sharedDataSource: dataSource, clock, logger, ...options.huawei })
      : null;
    if (huawei) stops.push(() => huawei.stop());
    const rollouts = startRollouts({ config, queue: writeQueue, readDataSource, recorder, commands, huawei: huawei?.upgrades ?? null, pubSub, clock, logger });
    stops.push(() => rollouts.stop());
    const services: GraphQLServices = {
      store,
      pubSub: pubSub.pubSub,
      listen: pubSub.listen,
      firmwareUpgrades,
      huaweiUpgrades: huawei,
      devices: new DeviceReadStore(readDataSource),
      rollouts: rollouts.api,
    };
    const schema = await buildGatewaySchema(pubSub.pubSub);
    const app = await buildApp({
      config,
      logger,
      schema,
      services,
      recorder,
      metrics,
      readiness: { database: async () => (fileGuard?.intact() ?? true) && (await store.ping()), mqtt: () => connection.ready },
      readinessReports: huawei?.registration ? { huaweiCallback: () => huawei.registration!.state } : undefined,
      // Built by `npm run build` next to the compiled server: dist/dashboard.
      extraPlugins: [
        async (app) => void (await app.register(dashboardPlugin, { root: join(__dirname, '..', 'dashboard') })),
        async (app) =>
          void (await app.register(graphiqlPlugin, { root: join(__dirname, '..', 'graphiql'), schema, introspection: config.graphqlIntrospection })),
      ],
    });
    // The HTTP server stops first: no new pushes or operations once shutdown begins.
    stops.push(() => closeApp(app));
    try {
      await app.listen({ host: config.host, port: config.port });
    } catch (error) {
      throw listenError(error, 'PORT', config.host, config.port);
    }
    const address = app.server.address() as AddressInfo;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const url = `${config.tls ? 'https' : 'http'}://${host}:${address.port}`;
    logger.info({ url, mqttUrl }, 'ota-gateway ready');

    let closing: Promise<void> | undefined;
    return {
      config,
      app,
      url,
      mqttUrl,
      dataSource,
      readDataSource,
      recorder,
      writeQueue,
      metrics,
      mqtt: connection,
      huawei,
      close: () => (closing ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Binds `port` on `host` and lets it go again: a StartupError naming `variable` when it is taken. Port 0 is always free. */
async function assertPortFree(host: string, port: number, variable: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error) => reject(listenError(error, variable, host, port)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
