import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { DataDirLockedError } from './database.errors';

/** What a lock file holds: who owns the directory. */
export interface LockRecord {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  /** Tells this owner's file from a later owner's with the same pid (a restarted container). */
  readonly token: string;
}

/**
 * A takeover mutex, or a lock file that never got its record, older than
 * this was left by a starter that died between two system calls.
 */
const ABANDONED_MS = 10_000;
const MAX_ATTEMPTS = 50;

/** Lock files this process holds: a record with our own pid that is not in here is a previous incarnation's. */
const held = new Map<string, DataDirLock>();
let releaseAtExit = false;

/**
 * An exclusive, advisory lock on a data directory, so that one process at a
 * time opens an embedded database (two PGlite processes on one directory
 * silently lose writes).
 *
 * The lock is the file `<dir>.lock` beside the directory (PGlite owns the
 * directory's contents), created with `O_CREAT | O_EXCL` and holding
 * {@link LockRecord}. A file whose process is gone (same host, and
 * `kill(pid, 0)` fails with `ESRCH`) is stale and taken over; taking over
 * happens under a second exclusive object (`<dir>.lock.takeover`, made with
 * `mkdir`) so two starters cannot both remove a stale file after one of them
 * has already replaced it. Creating the file is always `O_EXCL`, so at most
 * one process holds it. Limits: a lock from another host cannot be checked
 * and always refuses; a stale pid reused by an unrelated process refuses
 * until the file is deleted by hand; a file system without `O_EXCL` (old
 * NFS) gives no guarantee.
 */
export class DataDirLock {
  private released = false;

  private constructor(
    /** The lock file. */
    readonly path: string,
    private readonly record: LockRecord,
  ) {}

  /**
   * Takes the lock on `dataDir` (which must exist), or throws
   * `DataDirLockedError` naming the process that holds it. Released by
   * {@link release}, and at the latest when the process exits normally.
   */
  static acquire(dataDir: string): DataDirLock {
    // One file per directory however it is spelled (relative, symlinked).
    const path = `${realpathSync(dataDir)}.lock`;
    const record: LockRecord = {
      pid: process.pid,
      host: hostname(),
      startedAt: new Date().toISOString(),
      token: randomBytes(8).toString('hex'),
    };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (create(path, record)) return DataDirLock.held(path, record);
      const holder = readRecord(path);
      if (holder === 'missing') continue;
      if (holder === 'unreadable') {
        // Created, its record not written yet (or its starter died in between).
        if (Date.now() - mtimeMs(path) > ABANDONED_MS) removeIfStill(path, holder);
        else sleep(20);
        continue;
      }
      if (isAlive(holder, path)) throw new DataDirLockedError(dataDir, path, holder);
      removeIfStill(path, holder);
    }
    const last = readRecord(path);
    throw new DataDirLockedError(dataDir, path, typeof last === 'string' ? undefined : last);
  }

  private static held(path: string, record: LockRecord): DataDirLock {
    const lock = new DataDirLock(path, record);
    held.set(path, lock);
    if (!releaseAtExit) {
      releaseAtExit = true;
      process.once('exit', () => {
        for (const each of [...held.values()]) each.release();
      });
    }
    return lock;
  }

  /** Deletes the lock file if it is still this lock's. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this.path);
    if (sameRecord(readRecord(this.path), this.record)) unlinkQuietly(this.path);
  }
}

/** Creates the file exclusively with `record`; false when it exists. */
function create(path: string, record: LockRecord): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The record in the file, `missing` when there is no file, `unreadable` when it holds no record (yet). */
function readRecord(path: string): LockRecord | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockRecord>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.token === 'string') {
      return parsed as LockRecord;
    }
  } catch {
    /* fall through */
  }
  return 'unreadable';
}

function sameRecord(a: LockRecord | 'missing' | 'unreadable', b: LockRecord | 'unreadable'): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.token === b.token && a.pid === b.pid;
}

function isAlive(holder: LockRecord, path: string): boolean {
  if (holder.host !== hostname()) return true;
  if (holder.pid === process.pid) return held.has(path);
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is someone else's.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Removes the stale file `holder` was read from, unless another starter replaced it meanwhile. */
function removeIfStill(path: string, holder: LockRecord | 'unreadable'): void {
  const mutex = `${path}.takeover`;
  try {
    mkdirSync(mutex);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (Date.now() - mtimeMs(mutex) > ABANDONED_MS) rmdirQuietly(mutex);
    else sleep(10);
    return;
  }
  try {
    // Under the mutex nobody else removes the file, and O_EXCL creates only when it is gone: still the stale one?
    if (sameRecord(readRecord(path), holder)) unlinkQuietly(path);
  } finally {
    rmdirQuietly(mutex);
  }
}

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

function rmdirQuietly(path: string): void {
  try {
    rmdirSync(path);
  } catch {
    /* already gone */
  }
}

/** Boot-time only: a few milliseconds of blocking while another starter finishes its step. */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
