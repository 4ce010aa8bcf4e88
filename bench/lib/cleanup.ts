import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Everything the bench started that must not outlive it: child processes and
 * temporary folders. `cleanupAll()` is awaited on the normal path; the `exit`
 * hook is the last resort (SIGKILL, synchronous removal) for every other path.
 */
const children = new Set<ChildProcess>();
const dirs = new Set<string>();

export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function trackDir(dir: string): void {
  dirs.add(dir);
}

/** True while the process has not exited (nor been reaped). */
export function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL. Resolves once the child exited. */
export function stopChild(child: ChildProcess, graceMs = 12_000): Promise<void> {
  if (!alive(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (alive(child)) child.kill('SIGKILL');
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Stops every child still running and removes every folder. */
export async function cleanupAll(): Promise<void> {
  await Promise.all([...children].map((child) => stopChild(child, 5_000)));
  for (const dir of [...dirs]) removeDir(dir);
}

let installed = false;

/** Installs the hooks that clean up on signals, uncaught errors and exit. */
export function installCleanupHooks(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const child of children) if (alive(child)) child.kill('SIGKILL');
    for (const dir of dirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        /* best effort at exit */
      }
    }
  });
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (signalled) process.exit(130);
      signalled = true;
      process.stderr.write(`\nbench: ${signal}, cleaning up…\n`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
  process.on('uncaughtException', (error) => {
    process.stderr.write(`bench: uncaught exception: ${error.stack ?? error}\n`);
    void cleanupAll().finally(() => process.exit(1));
  });
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`bench: unhandled rejection: ${(reason as Error)?.stack ?? reason}\n`);
    void cleanupAll().finally(() => process.exit(1));
  });
}
