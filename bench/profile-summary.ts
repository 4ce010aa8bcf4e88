/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --profile`): where the
 * gateway's main thread spent its time, by package or source file and by
 * function (self time), and the inclusive time of the functions whose name
 * matches --focus. --within regex shows, of the samples whose stack holds a
 * frame matching it, the self time by package: what a call (`attempt
 * src/recorder/write-queue`) spends its time in. --timeline ms shows the main
 * thread's idle and GC shares slice by slice, so that a figure is taken over
 * the scenario's busy window and not over the start-up and the wait after it.
 *
 *   node dist/bench/profile-summary.js bench/results/profiles/<run>/gateway-mqtt-ingest.cpuprofile [--top 25] [--focus regex] [--within regex] [--timeline 250]
 *
 * Given a .heapprofile (see lib/allocation-profiler.ts), it shows the bytes
 * allocated by package or source file and by function instead.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** `node_modules/<pkg>` (scoped too), `src/<path>`, or the node internal / special name. */
function origin(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  const source = /\/dist\/(src\/.+?)\.js$/.exec(url);
  if (source) return source[1];
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

interface HeapProfileNode {
  id: number;
  callFrame: ProfileNode['callFrame'];
  children: HeapProfileNode[];
}
interface HeapProfile {
  head: HeapProfileNode;
  samples: { size: number; nodeId: number }[];
}

/** Bytes allocated, by package or source file and by function, from a sampling heap profile. */
function summariseAllocations(file: string, top: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as HeapProfile;
  const bytesOf = new Map<number, number>();
  for (const sample of profile.samples) bytesOf.set(sample.nodeId, (bytesOf.get(sample.nodeId) ?? 0) + sample.size);
  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  const visit = (node: HeapProfileNode) => {
    const bytes = bytesOf.get(node.id) ?? 0;
    if (bytes > 0) {
      const { functionName, url, lineNumber } = node.callFrame;
      const where = origin(url, functionName);
      total += bytes;
      byOrigin.set(where, (byOrigin.get(where) ?? 0) + bytes);
      const fn = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + bytes);
    }
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  const show = (title: string, map: Map<string, number>) => {
    process.stdout.write(`\n${title}\n`);
    for (const [key, bytes] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${((bytes / total) * 100).toFixed(1).padStart(6)}%  ${(bytes / 1e6).toFixed(0).padStart(7)} MB  ${key}\n`);
    }
  };
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(0)} MB allocated (sampled)\n`);
  show('Allocated by package / source file', byOrigin);
  show('Allocated by function', byFunction);
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: node dist/bench/profile-summary.js <file.cpuprofile|file.heapprofile> [--top N] [--focus regex] [--within regex] [--timeline ms]\n');
    process.exit(2);
  }
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
  // Piped into head: stop quietly when the reader has had enough.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  if (file.endsWith('.heapprofile')) return summariseAllocations(file, top);
  const focusIndex = args.indexOf('--focus');
  const focus = focusIndex >= 0 ? new RegExp(args[focusIndex + 1]) : null;
  const withinIndex = args.indexOf('--within');
  const within = withinIndex >= 0 ? new RegExp(args[withinIndex + 1]) : null;
  const timelineIndex = args.indexOf('--timeline');
  const sliceMs = timelineIndex >= 0 ? Number(args[timelineIndex + 1]) : null;

  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);

  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const withinByOrigin = new Map<string, number>();
  let withinTotal = 0;
  const frameKey = (frame: ProfileNode['callFrame']) => `${frame.functionName || '(anonymous)'} ${origin(frame.url, frame.functionName)}:${frame.lineNumber + 1}`;
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = origin(url, functionName);
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + us);
    const fn = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    if (focus) {
      // Count each matching frame once per sample stack.
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const key = frameKey(byId.get(cur)!.callFrame);
        if (!seen.has(key) && focus.test(key)) {
          seen.add(key);
          inclusive.set(key, (inclusive.get(key) ?? 0) + us);
        }
      }
    }
    if (within) {
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        if (!within.test(frameKey(byId.get(cur)!.callFrame))) continue;
        withinTotal += us;
        withinByOrigin.set(where, (withinByOrigin.get(where) ?? 0) + us);
        break;
      }
    }
  }
  const show = (title: string, map: Map<string, number>) => {
    process.stdout.write(`\n${title}\n`);
    for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${((us / total) * 100).toFixed(1).padStart(6)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}\n`);
    }
  };
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s sampled\n`);
  show('Self time by package / source file', byOrigin);
  show('Self time by function', byFunction);
  if (focus) show(`Inclusive time of frames matching ${focus}`, inclusive);
  if (within) {
    show(`Under frames matching ${within} (${(withinTotal / 1000).toFixed(0)} ms in all): self time by package / source file`, withinByOrigin);
  }
  if (sliceMs) {
    process.stdout.write(`\nMain thread by ${sliceMs} ms slice: idle, garbage collection\n`);
    const slices = new Map<number, { all: number; idle: number; gc: number }>();
    let at = 0;
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i] ?? 0;
      at += us;
      const slice = Math.floor(at / 1000 / sliceMs);
      const entry = slices.get(slice) ?? { all: 0, idle: 0, gc: 0 };
      const name = byId.get(id)!.callFrame.functionName;
      entry.all += us;
      if (name === '(idle)') entry.idle += us;
      if (name === '(garbage collector)') entry.gc += us;
      slices.set(slice, entry);
    });
    for (const [slice, { all, idle, gc }] of slices) {
      const share = (part: number) => `${((part / all) * 100).toFixed(0)}%`.padStart(5);
      process.stdout.write(`${((slice * sliceMs) / 1000).toFixed(2).padStart(8)} s  idle ${share(idle)}  gc ${share(gc)}\n`);
    }
  }
}

main();
