/**
 * Preloaded (`node -r`) into every process the bench starts, the gateway
 * included. The bench gives each child an IPC channel; when the bench dies,
 * however abruptly, the channel closes and the child stops itself with SIGTERM
 * (the gateway then shuts down gracefully), so no process outlives a run. An
 * orphaned child also removes the folder named by BENCH_ORPHAN_DIR (its
 * temporary database) on its way out, since the bench no longer can.
 */
import { rmSync } from 'node:fs';

if (typeof process.send === 'function') {
  const dir = process.env.BENCH_ORPHAN_DIR;
  process.on('disconnect', () => {
    if (dir) {
      process.on('exit', () => {
        try {
          rmSync(dir, { recursive: true, force: true });
        } catch {
          /* best effort */
        }
      });
    }
    process.kill(process.pid, 'SIGTERM');
    // Whatever SIGTERM does, do not linger.
    setTimeout(() => process.exit(1), 15_000).unref();
  });
  // The channel must not keep an otherwise finished process alive.
  (process.channel as { unref?: () => void } | undefined)?.unref?.();
}
