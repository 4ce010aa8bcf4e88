/**
 * The store of the durable baselines: what a competent engineer would write
 * in a day to acknowledge a message only once it is on disk. One sqlite3
 * connection (the gateway's driver) with the gateway's settings (WAL,
 * `synchronous=FULL`), one table with a unique key per message, and group
 * commit: whatever arrives while a transaction commits goes into the next
 * one, as one multi-row `INSERT OR IGNORE`. `add` resolves once its row is
 * committed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';

/** Rows per statement (3 parameters each, well under SQLite's limit). */
const ROWS_PER_STATEMENT = 5_000;

export interface DurableStore {
  /** Resolves once the message is committed (a repeated key is ignored, and committed all the same). */
  add(key: string, topic: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

export async function openDurableStore(): Promise<DurableStore> {
  const dir = mkdtempSync(join(tmpdir(), 'ota-bench-durable-'));
  const db = new sqlite3.Database(join(dir, 'baseline.sqlite'));
  const run = (sql: string, params: unknown[] = []) =>
    new Promise<void>((resolve, reject) => db.run(sql, params, (error) => (error ? reject(error) : resolve())));
  await run('PRAGMA journal_mode = WAL');
  await run('PRAGMA synchronous = FULL');
  await run('CREATE TABLE message (key TEXT PRIMARY KEY NOT NULL, topic TEXT NOT NULL, payload TEXT NOT NULL, received_at INTEGER NOT NULL)');

  let queue: { key: string; topic: string; payload: string; done: (error?: unknown) => void }[] = [];
  let writing = false;

  const commit = async (): Promise<void> => {
    writing = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await run('BEGIN');
        const now = Date.now();
        for (let start = 0; start < batch.length; start += ROWS_PER_STATEMENT) {
          const rows = batch.slice(start, start + ROWS_PER_STATEMENT);
          await run(
            `INSERT OR IGNORE INTO message (key, topic, payload, received_at) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}`,
            rows.flatMap((r) => [r.key, r.topic, r.payload, now]),
          );
        }
        await run('COMMIT');
        for (const item of batch) item.done();
      } catch (error) {
        await run('ROLLBACK').catch(() => undefined);
        for (const item of batch) item.done(error);
      }
    }
    writing = false;
  };

  return {
    add(key, topic, payload) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ key, topic, payload, done: (error) => (error ? reject(error) : resolve()) });
        // Let the rest of this tick join the same commit.
        if (!writing) {
          writing = true;
          setImmediate(() => void commit());
        }
      });
    },
    async close() {
      await new Promise<void>((resolve) => db.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
