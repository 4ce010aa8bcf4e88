/**
 * `npm run test:e2e`: the dashboard in a real browser (Debian's Chromium
 * driven by playwright-core) against the built gateway started as a child
 * process. The global setup runs `npm run build` first, so the page and the
 * server tested are what `npm start` serves. Without Chromium the suite is
 * skipped with a message, except under CI=true, where that is a failure.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/e2e'],
  testMatch: ['**/*.e2e.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFiles: ['reflect-metadata'],
  globalSetup: '<rootDir>/test/e2e/global-setup.js',
  testTimeout: 120000,
  maxWorkers: 1,
};
