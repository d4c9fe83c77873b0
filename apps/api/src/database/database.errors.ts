import type { LockRecord } from './data-dir-lock';

/**
 * Another process holds the embedded database's directory: starting a second
 * one on it would lose writes. The message names that process and the lock
 * file; it is an operator error, printed without a stack trace.
 */
export class DataDirLockedError extends Error {
  readonly code = 'E_DATA_DIR_LOCKED';

  constructor(
    readonly dataDir: string,
    readonly lockFile: string,
    readonly holder: LockRecord | undefined,
  ) {
    const who = holder
      ? `process ${holder.pid} on ${holder.host} (started ${holder.startedAt})`
      : 'another process (its lock file is being written or is unreadable)';
    super(
      `The embedded database ${dataDir} is in use by ${who}; lock file ${lockFile}. ` +
        'Only one process may open it: stop that one, give this one another DATA_DIR, or use DATABASE_URL. ' +
        'If that process is not running, delete the lock file.',
    );
    this.name = 'DataDirLockedError';
  }
}
