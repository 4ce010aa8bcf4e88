export { LedgerPruner, type LedgerPrunerOptions } from './ledger-pruner';
export { Periodic } from './periodic';
export { StaleSweeper, defaultSweepInterval, type StaleSweeperOptions } from './stale-sweeper';
export { SqliteFileGuard, StorageUnavailableError } from './storage-guard';
