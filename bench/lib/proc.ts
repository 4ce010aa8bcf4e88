import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { alive, stopChild, trackChild } from './cleanup';

/** dist/bench (this file compiles to dist/bench/lib/proc.js). */
export const BENCH_DIST = join(__dirname, '..');
/** The repository root (dist/bench/lib → ../../..). */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

const GUARD = join(BENCH_DIST, 'lib', 'orphan-guard.js');

/** A child Node process the bench started, with the tail of its output for error reports. */
export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** Last lines of stdout and stderr. */
  output(): string;
  /** Rejects once the child exits (for racing against waits). */
  readonly exited: Promise<never>;
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `node [nodeArgs] -r orphan-guard script` with an IPC channel, so the
 * child stops when the bench dies.
 */
export function spawnNode(name: string, script: string, options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {}): Child {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '-r', GUARD, script], {
    cwd: REPO_ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  trackChild(child);
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(...chunk.toString('utf8').split('\n').filter((l) => l.trim() !== ''));
    if (tail.length > 40) tail.splice(0, tail.length - 40);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`${name} exited (code ${code}, signal ${signal})\n${tail.slice(-15).join('\n')}`)),
    );
  });
  exited.catch(() => undefined);
  if (child.pid === undefined) throw new Error(`${name} could not be started`);
  return {
    name,
    process: child,
    pid: child.pid,
    output: () => tail.join('\n'),
    exited,
    stop: (graceMs) => stopChild(child, graceMs),
  };
}

/** Starts a baseline script that reports `{ ready: true, port }` over IPC once listening. */
export async function spawnBaseline(
  name: string,
  script: string,
  env: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<{ child: Child; port: number }> {
  const child = spawnNode(name, join(BENCH_DIST, 'baselines', script), { env: { ...process.env, ...env } });
  try {
    const port = await withTimeout(
      Promise.race([
        new Promise<number>((resolve) => {
          child.process.on('message', (message: { ready?: boolean; port?: number }) => {
            if (message?.ready && typeof message.port === 'number') resolve(message.port);
          });
        }),
        child.exited,
      ]),
      timeoutMs,
      `${name} to listen`,
    );
    return { child, port };
  } catch (error) {
    await child.stop(2_000);
    throw error;
  }
}

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resident set size and its peak, in MB, from /proc/<pid>/status (null off Linux or once gone). */
export function memoryOf(pid: number): { rssMb: number; peakRssMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
    const rss = kb('VmRSS');
    if (!Number.isFinite(rss)) return null;
    return { rssMb: rss / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** Rejects with a message naming `what` when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(ms / 1000)} s waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns true; throws after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

export { alive };
