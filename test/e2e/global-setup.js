/**
 * The browser test runs the gateway as `npm start` would (dist/src/server.js
 * serving dist/dashboard): build both first so it never tests stale output.
 */
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async () => {
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], {
    cwd: join(__dirname, '..', '..'),
    stdio: 'inherit',
  });
};
