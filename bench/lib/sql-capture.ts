/**
 * Preloaded into the gateway to record what its writer sends to SQLite:
 *
 *   BENCH_GATEWAY_NODE_ARGS="--require ./dist/bench/lib/sql-capture.js" npm run bench -- --only webhook
 *   node dist/bench/sql-replay.js bench/results/profiles/sql-<pid>.json
 *
 * Every statement of the writer's connection from its first batch on (the
 * read connection never opens a transaction), in order, with its
 * parameters, and when each batch's BEGIN was sent and its COMMIT came back.
 * `sql-replay` runs the same statements on a fresh database without the
 * gateway: how much of the writer's time is SQLite and its driver, and how
 * much is the gateway's own work. Written when the gateway is stopped
 * (SIGTERM, as the bench stops it), to bench/results/profiles/ or the folder
 * in BENCH_SQL_CAPTURE_DIR.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';

/** One statement as sent: its text and parameters, when it was sent, and for BEGIN and COMMIT when it was done (ms). */
export interface CapturedStatement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
  readonly sentAt: number;
  doneAt?: number;
}

/** Most statements kept (a full bench scenario sends tens of thousands). */
const MAX_STATEMENTS = 500_000;

const dir = process.env.BENCH_SQL_CAPTURE_DIR ?? join(__dirname, '..', '..', '..', 'bench', 'results', 'profiles');
const captured: CapturedStatement[] = [];
/** The writer's connection: the one the write queue opens its transactions on. */
const writers = new WeakSet<sqlite3.Database>();

type Method = (this: sqlite3.Database, sql: string, ...rest: unknown[]) => sqlite3.Database;
const prototype = sqlite3.Database.prototype as unknown as Record<'all' | 'run' | 'exec', Method>;
for (const name of ['all', 'run', 'exec'] as const) {
  const original = prototype[name];
  prototype[name] = function (this: sqlite3.Database, sql: string, ...rest: unknown[]) {
    // The write queue's own BEGIN (src/store/sqlite-transaction.ts); the migrations before it say BEGIN TRANSACTION.
    if (captured.length === 0 && sql === 'BEGIN') writers.add(this);
    if (writers.has(this) && captured.length < MAX_STATEMENTS) {
      const statement: CapturedStatement = { sql, parameters: name !== 'exec' && Array.isArray(rest[0]) ? rest[0] : [], sentAt: performance.now() };
      captured.push(statement);
      const last = rest.length - 1;
      const callback = rest[last];
      if (/^(BEGIN|COMMIT)\b/.test(sql) && typeof callback === 'function') {
        rest[last] = function (this: unknown, ...args: unknown[]) {
          statement.doneAt = performance.now();
          return (callback as (...a: unknown[]) => unknown).apply(this, args);
        };
      }
    }
    return original.call(this, sql, ...rest);
  };
}

process.prependListener('SIGTERM', () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `sql-${process.pid}.json`), JSON.stringify(captured));
});
