import 'reflect-metadata';
import pino from 'pino';
import { ConfigError, loadConfig } from './config';
import { startGateway, type Gateway } from './gateway';
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
      process.stderr.write(`ota-gateway: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = pino({ level: config.logLevel, name: 'ota-gateway' });

  let gateway: Gateway;
  try {
    gateway = await startGateway(config, { logger });
  } catch (error) {
    if (error instanceof StartupError) {
      process.stderr.write(`ota-gateway: ${error.message}\n`);
    } else {
      logger.fatal({ err: error }, 'ota-gateway could not start');
      process.stderr.write(`ota-gateway: could not start: ${(error as Error).message}\n`);
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
