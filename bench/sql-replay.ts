/**
 * Replays what the gateway's writer sent to SQLite (recorded by
 * lib/sql-capture.ts) on a fresh database with the gateway's schema and
 * settings, without the gateway: each batch as the writer sends it (BEGIN
 * with the batch's reads, then its writes together, then COMMIT), one batch
 * after the other.
 *
 *   node dist/bench/sql-replay.js bench/results/profiles/sql-<pid>.json
 *
 * Prints the time the replay took beside the time the gateway's batches took
 * (from each BEGIN sent to its COMMIT done): the share of the writer's time
 * that is SQLite and its driver when nothing else runs, the floor of what the
 * gateway's statements cost.
 */
import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, sqliteConnectionOf } from '../src/store/data-source';
import type { CapturedStatement } from './lib/sql-capture';

interface Batch {
  readonly reads: CapturedStatement[];
  readonly writes: CapturedStatement[];
  /** From BEGIN sent to COMMIT done, in the gateway (ms). */
  readonly gatewayMs: number;
}

function batchesOf(statements: readonly CapturedStatement[]): Batch[] {
  const batches: Batch[] = [];
  let open: { reads: CapturedStatement[]; writes: CapturedStatement[]; sentAt: number } | null = null;
  for (const statement of statements) {
    if (/^BEGIN\b/.test(statement.sql)) {
      open = { reads: [], writes: [], sentAt: statement.sentAt };
    } else if (open !== null && /^COMMIT\b/.test(statement.sql)) {
      if (statement.doneAt !== undefined) batches.push({ reads: open.reads, writes: open.writes, gatewayMs: statement.doneAt - open.sentAt });
      open = null;
    } else if (open !== null) {
      (/^SELECT\b/.test(statement.sql) ? open.reads : open.writes).push(statement);
    }
  }
  return batches;
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/bench/sql-replay.js <sql-<pid>.json written by lib/sql-capture>');
    process.exit(2);
  }
  const batches = batchesOf(JSON.parse(readFileSync(file, 'utf8')) as CapturedStatement[]);
  const dir = mkdtempSync(join(tmpdir(), 'ota-bench-replay-'));
  const dataSource = await openDatabase({ engine: 'sqlite', path: join(dir, 'replay.sqlite') });
  try {
    const connection = sqliteConnectionOf(dataSource);
    const all = (s: CapturedStatement) => new Promise<void>((resolve, reject) => connection.all(s.sql, s.parameters, (e) => (e ? reject(e) : resolve())));
    const exec = (sql: string) => new Promise<void>((resolve, reject) => connection.exec(sql, (e) => (e ? reject(e) : resolve())));
    const started = performance.now();
    for (const batch of batches) {
      await Promise.all([exec('BEGIN'), ...batch.reads.map(all)]);
      await Promise.all(batch.writes.map(all));
      await exec('COMMIT');
    }
    const replayMs = performance.now() - started;
    const gatewayMs = batches.reduce((sum, b) => sum + b.gatewayMs, 0);
    const statements = batches.reduce((sum, b) => sum + b.reads.length + b.writes.length + 2, 0);
    const per = (ms: number) => (ms / Math.max(1, batches.length)).toFixed(2);
    console.log(`${batches.length} batches, ${statements} statements (${(statements / Math.max(1, batches.length)).toFixed(1)} a batch)`);
    console.log(`gateway, inside its batches: ${gatewayMs.toFixed(0)} ms (${per(gatewayMs)} ms a batch)`);
    console.log(`replayed without the gateway: ${replayMs.toFixed(0)} ms (${per(replayMs)} ms a batch), ${((100 * replayMs) / gatewayMs).toFixed(0)} % of the gateway's`);
  } finally {
    await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
