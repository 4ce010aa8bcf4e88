/**
 * `npm run test:services`: integration suites against real PostgreSQL, Redis
 * and an external MQTT broker (Mosquitto), run one file at a time.
 *
 * Where the services are: TEST_DATABASE_URL (a PostgreSQL URL whose user may
 * CREATE DATABASE; each suite creates and drops its own `ota_test_<random>`),
 * TEST_REDIS_URL and TEST_MQTT_URL; the defaults are the local ones. The global
 * setup probes them (under CI=true an unreachable one fails the run; otherwise
 * the suites that need it are skipped, with a message) and builds `dist/` for
 * the suites that spawn gateway processes (their logs: a temporary folder,
 * quoted in failure messages). OTA_TEST_KEEP_DATABASES=1 keeps the databases
 * and the logs for a look afterwards.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/services'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFiles: ['reflect-metadata'],
  globalSetup: '<rootDir>/test/services/support/global-setup.ts',
  testTimeout: 60000,
  maxWorkers: 1,
};
