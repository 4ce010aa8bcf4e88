import type { BenchOptions } from '../lib/args';

/** What every scenario gets besides its sizes. */
export interface ScenarioContext {
  readonly options: BenchOptions;
  /** Folder for CPU profiles of the gateway, when profiling. */
  readonly profileDir: string | null;
  /** Progress line on stderr. */
  log(message: string): void;
}
