/**
 * Preloaded into the gateway for an allocation profile:
 *
 *   BENCH_GATEWAY_NODE_ARGS="--require ./dist/bench/lib/allocation-profiler.js" npm run bench -- --only fleet
 *   node dist/bench/profile-summary.js bench/results/profiles/allocations-<pid>.heapprofile
 *
 * V8's sampling heap profiler, told to keep the samples of objects that were
 * collected too: it then counts what was allocated (what the young
 * generation's collections pay for), not what is still alive at the end. The
 * profile is written when the gateway is stopped (SIGTERM, as the bench stops
 * it), to bench/results/profiles/ or the folder in BENCH_ALLOCATION_PROFILE_DIR.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_ALLOCATION_PROFILE_DIR ?? join(__dirname, '..', '..', '..', 'bench', 'results', 'profiles');
const session = new Session();
session.connect();
session.post('HeapProfiler.enable');
// Every 32 kB allocated on average; the options are V8's (Node's types do not list them yet).
session.post('HeapProfiler.startSampling', {
  samplingInterval: 32_768,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
} as never);
process.prependListener('SIGTERM', () => {
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `allocations-${process.pid}.heapprofile`), JSON.stringify(result.profile));
  });
});
