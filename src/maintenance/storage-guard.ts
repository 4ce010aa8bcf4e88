import { statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';

/** Raised when the SQLite file the gateway writes to is no longer the file at its path. */
export class StorageUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageUnavailableError';
  }
}

interface Identity {
  readonly dev: number;
  readonly ino: number;
}

/**
 * Guards against the one storage fault SQLite does not report: the database
 * file (or its write-ahead log) being deleted, renamed or replaced while the
 * gateway has it open. SQLite keeps writing to the open, now nameless, file and
 * every commit succeeds, yet none of it is there after a restart: pushes
 * answered 200 and MQTT messages acknowledged would be lost.
 *
 * {@link check} compares what is at the paths now with what was there when the
 * guard was made (device and inode, and that the file still has a name). The
 * writer calls it before every commit, so such a batch is rolled back and
 * refused (503 to pushes, no PUBACK to the broker), and readiness reports it.
 * When the same file comes back under its name (moved back), writes resume by
 * themselves; a different file at the path (a restore) needs a restart, which
 * `/readyz` failing asks for.
 *
 * (A file made read-only does not need guarding: the open connection still
 * writes to it durably, and a restart would then fail loudly.)
 */
export class SqliteFileGuard {
  private readonly files: readonly { readonly path: string; readonly identity: Identity }[];

  /** Records the identity of `path` and of `path-wal` (when the database is in WAL mode, it exists while open). */
  constructor(path: string) {
    const main = resolve(path);
    this.files = [main, `${main}-wal`].flatMap((file) => {
      const stats = statOrNull(file);
      return stats ? [{ path: file, identity: { dev: stats.dev, ino: stats.ino } }] : [];
    });
    if (this.files.length === 0 || this.files[0].path !== main) {
      throw new StorageUnavailableError(`SQLite database file ${main} not found`);
    }
  }

  /** @throws StorageUnavailableError naming the file that is gone or replaced. */
  check(): void {
    for (const { path, identity } of this.files) {
      const stats = statOrNull(path);
      if (!stats || stats.nlink === 0) {
        throw new StorageUnavailableError(`SQLite file ${path} was removed while open; refusing to commit what would be lost`);
      }
      if (stats.dev !== identity.dev || stats.ino !== identity.ino) {
        throw new StorageUnavailableError(`SQLite file ${path} was replaced while open; refusing to commit to the old one`);
      }
    }
  }

  /** True when {@link check} passes (readiness). */
  intact(): boolean {
    try {
      this.check();
      return true;
    } catch {
      return false;
    }
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
