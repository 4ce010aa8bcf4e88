import 'reflect-metadata';
import { setFlagsFromString } from 'node:v8';
import { ConfigError, loadConfig } from './config';
import { startGateway, type Gateway } from './gateway';
import { configSecrets } from './config';
import { createLogger, maskSecrets } from './server/log-redaction';
import { StartupError } from './startup-error';

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The process: read the environment, start the gateway, stop it cleanly on
 * SIGTERM/SIGINT. Operator mistakes (bad settings, a taken port) are one line
 * on stderr and exit code 1, never a stack trace.
 */
async function main(): Promise<void> {
  // Libraries that read NODE_ENV themselves (graphql-ws's close reasons) get the gateway's default.
  process.env.NODE_ENV ??= 'production';
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`ota-gateway: ${maskSecrets(error.message)}\n`);
      process.exit(1);
    }
    throw error;
  }
  // V8 lets the heap grow to two to four times what is live before it collects it, because the
  // machine has room: at 2,000 docks and 1,000 subscribers 105 MB live made 430 MB RSS. A smaller
  // growing factor keeps RSS near 240 MB, for 4-7 % less ingest throughput (README "Performance").
  // V8 reads the flag whenever it sizes the heap after a collection, so setting it now takes effect.
  if (config.heapGrowingPercent > 0) setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
  const logger = createLogger({ level: config.logLevel, secrets: configSecrets(config) });

  let gateway: Gateway;
  try {
    gateway = await startGateway(config, { logger });
  } catch (error) {
    // Driver errors may quote DATABASE_URL, MQTT_URL or REDIS_URL: stderr is masked like the log.
    const mask = (text: string) => configSecrets(config).reduce((t, secret) => t.split(secret).join('***'), maskSecrets(text));
    if (error instanceof StartupError) {
      process.stderr.write(`ota-gateway: ${mask(error.message)}\n`);
    } else {
      logger.fatal({ err: error }, 'ota-gateway could not start');
      process.stderr.write(`ota-gateway: could not start: ${mask((error as Error).message)}\n`);
    }
    process.exit(1);
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    gateway.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error) => {
        logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
}

void main();
