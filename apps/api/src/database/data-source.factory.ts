import { DataSource, type DataSourceOptions } from 'typeorm';
import { DataDirLock } from './data-dir-lock';
import type { AppDataSourceOptions } from './data-source-options';

/** A data source that holds the embedded database's directory lock until it is destroyed. */
class LockedDataSource extends DataSource {
  constructor(
    options: DataSourceOptions,
    private readonly lock: DataDirLock,
  ) {
    super(options);
  }

  override async destroy(): Promise<void> {
    try {
      await super.destroy();
    } finally {
      // Only once PGlite has flushed and closed may another process open the directory.
      this.lock.release();
    }
  }
}

/**
 * Creates and initialises the data source (`TypeOrmModule`'s
 * `dataSourceFactory`). On embedded PGlite (`lockDataDir`) the data directory is locked
 * first ({@link DataDirLock}): a second process on the same directory stops
 * at boot with `DataDirLockedError` instead of losing writes.
 */
export async function createDataSource(options: AppDataSourceOptions): Promise<DataSource> {
  const { lockDataDir, ...typeormOptions } = options;
  if (lockDataDir === undefined) return new DataSource(typeormOptions).initialize();
  const lock = DataDirLock.acquire(lockDataDir);
  try {
    return await new LockedDataSource(typeormOptions, lock).initialize();
  } catch (error) {
    lock.release();
    throw error;
  }
}
