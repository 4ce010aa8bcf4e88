/**
 * Process-level tests start `dist/src/server.js` as a user would; compile it
 * first so they never run stale output.
 */
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async () => {
  execFileSync(process.execPath, [join(__dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: join(__dirname, '..'),
    stdio: 'inherit',
  });
};
