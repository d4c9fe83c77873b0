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
 * The Postgres advisory lock under which an instance runs the migrations (a
 * constant of this app: every instance on the database takes the same one).
 */
export const MIGRATIONS_LOCK_KEY = 4_711_130_001;

/** How long an instance waits for another's migrations before its boot fails. */
const MIGRATIONS_LOCK_WAIT_MS = 60_000;
const MIGRATIONS_LOCK_POLL_MS = 100;

/**
 * Runs the pending migrations while holding {@link MIGRATIONS_LOCK_KEY}, so
 * that instances booting together on one database (replicas rolled out at
 * once) run them one after the other: the later ones find nothing pending
 * instead of racing to create the same tables. The lock is polled
 * (`pg_try_advisory_lock`), not waited on, so no statement outlives the
 * pool's `statement_timeout`; a session-level lock is released with its
 * connection, should the process die while holding it.
 */
export async function runMigrationsExclusively(
  dataSource: DataSource,
  waitMs = MIGRATIONS_LOCK_WAIT_MS,
): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATIONS_LOCK_KEY])) as [
        { locked: boolean },
      ];
      if (locked) break;
      if (Date.now() >= deadline)
        throw new Error(`another instance has held the migrations lock for ${waitMs} ms: is it stuck?`);
      await new Promise((resolve) => setTimeout(resolve, MIGRATIONS_LOCK_POLL_MS));
    }
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATIONS_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/**
 * Creates and initialises the data source (`TypeOrmModule`'s
 * `dataSourceFactory`). On Postgres the migrations run under an advisory lock
 * ({@link runMigrationsExclusively}). On embedded PGlite (`lockDataDir`) the
 * data directory is locked first ({@link DataDirLock}): a second process on
 * the same directory stops at boot with `DataDirLockedError` instead of
 * losing writes, so TypeORM runs the migrations itself.
 */
export async function createDataSource(options: AppDataSourceOptions): Promise<DataSource> {
  const { lockDataDir, ...typeormOptions } = options;
  if (lockDataDir === undefined) {
    const dataSource = await new DataSource({ ...typeormOptions, migrationsRun: false }).initialize();
    if (!typeormOptions.migrationsRun) return dataSource;
    try {
      await runMigrationsExclusively(dataSource);
    } catch (error) {
      await dataSource.destroy().catch(() => undefined);
      throw error;
    }
    return dataSource;
  }
  const lock = DataDirLock.acquire(lockDataDir);
  try {
    return await new LockedDataSource(typeormOptions, lock).initialize();
  } catch (error) {
    lock.release();
    throw error;
  }
}
