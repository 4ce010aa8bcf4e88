/**
 * `npm test`: everything that needs nothing but Node (SQLite files, the embedded
 * broker, real HTTP and WebSockets on free ports). Service-backed suites live in
 * test/services and run with `npm run test:services` (jest.services.config.js).
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/services/', '<rootDir>/test/e2e/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFiles: ['reflect-metadata'],
  globalSetup: '<rootDir>/test/global-setup.js',
  testTimeout: 30000,
  maxWorkers: 2,
};
