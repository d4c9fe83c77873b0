import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLock } from './data-dir-lock';
import { DataDirLockedError } from './database.errors';

describe(DataDirLock.name, () => {
  let root: string;
  let dataDir: string;
  let lockFile: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'bp-ddl-'));
    dataDir = join(root, 'pglite');
    lockFile = `${dataDir}.lock`;
    mkdirSync(dataDir);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const writeRecord = (record: object) => writeFileSync(lockFile, JSON.stringify(record));
  const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid;

  it('writes who holds it, refuses a second holder (however the path is spelled) and removes the file on release', () => {
    const lock = DataDirLock.acquire(dataDir);
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    symlinkSync(dataDir, join(root, 'alias'));
    expect(() => DataDirLock.acquire(join(root, 'alias'))).toThrow(DataDirLockedError);
    expect(() => DataDirLock.acquire(dataDir)).toThrow(`in use by process ${process.pid} on ${hostname()}`);
    lock.release();
    expect(existsSync(lockFile)).toBe(false);
    DataDirLock.acquire(dataDir).release();
  });

  it('takes over the file of a process that is gone, and of an earlier process with our pid', () => {
    writeRecord({ pid: deadPid(), host: hostname(), startedAt: 'earlier', token: 'old' });
    DataDirLock.acquire(dataDir).release();
    writeRecord({ pid: process.pid, host: hostname(), startedAt: 'earlier', token: 'previous-container' });
    const lock = DataDirLock.acquire(dataDir);
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).token).not.toBe('previous-container');
    lock.release();
  });

  it('refuses a live process (EPERM counts as alive) and a lock from another host, and leaves their file alone', () => {
    // pid 1 exists and, for an unprivileged test, answers kill(1, 0) with EPERM.
    writeRecord({ pid: 1, host: hostname(), startedAt: 'earlier', token: 'init' });
    expect(() => DataDirLock.acquire(dataDir)).toThrow(`lock file ${lockFile}`);
    writeRecord({ pid: deadPid(), host: 'elsewhere', startedAt: 'earlier', token: 'remote' });
    expect(() => DataDirLock.acquire(dataDir)).toThrow('on elsewhere');
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).token).toBe('remote');
  });

  it('waits for a file that has no record yet, and takes over one that never got it', () => {
    writeFileSync(lockFile, '');
    expect(() => DataDirLock.acquire(dataDir)).toThrow(DataDirLockedError);
    expect(existsSync(lockFile)).toBe(true);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile, old, old);
    DataDirLock.acquire(dataDir).release();
  });

  it('does not delete a file that another owner wrote after this lock was released elsewhere', () => {
    const lock = DataDirLock.acquire(dataDir);
    writeRecord({ pid: 1, host: hostname(), startedAt: 'later', token: 'someone-else' });
    lock.release();
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).token).toBe('someone-else');
  });
});
