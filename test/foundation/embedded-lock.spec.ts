import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppProcess, runToExit } from '../support/app-process';
import { freePort } from '../support/free-port';

/** A pid that no process has now: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('embedded PGlite: one process per data directory', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-lock-'));
  const lockFile = join(cwd, 'data', 'pglite.lock');
  const credentials = { email: 'first@example.com', password: 'correct horse battery' };
  let app: AppProcess;

  afterAll(async () => {
    await app?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('refuses a second process on the same directory, naming the holder and the lock file', async () => {
    app = await AppProcess.start({}, cwd);
    expect((await app.send('POST', '/api/v1/auth/register', { body: { ...credentials, name: 'First' } })).status).toBe(
      201,
    );
    const record = JSON.parse(readFileSync(lockFile, 'utf8'));
    expect(record).toMatchObject({ pid: app.pid, host: hostname() });

    const second = await runToExit({ PORT: String(await freePort()), HTTP_LOG: 'false' }, cwd);
    expect(second.code).not.toBe(0);
    expect(second.output).toContain(`in use by process ${app.pid} on ${hostname()}`);
    expect(second.output).toContain(`lock file ${lockFile}`);
    expect(second.output).not.toContain('Retrying');
    // One clean line: not Nest's buffered (coloured) boot logs and its stack of the error first.
    expect(second.output.trim().split('\n')).toHaveLength(1);

    // The first one is untouched: it still reads and writes.
    expect((await app.get('/health/ready')).status).toBe(200);
    const other = { email: 'second@example.com', password: 'correct horse battery', name: 'Second' };
    expect((await app.send('POST', '/api/v1/auth/register', { body: other })).status).toBe(201);
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(app.pid);
  });

  it('releases the lock on a graceful stop: the next process starts and sees the data', async () => {
    expect(await app.stop()).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
    await app.restart();
    expect((await app.send('POST', '/api/v1/auth/login', { body: credentials })).status).toBe(200);
  });

  it('takes over the stale lock of a SIGKILLed process', async () => {
    const killedPid = app.pid;
    await app.kill();
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(killedPid);
    await app.restart();
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(app.pid);
    expect((await app.send('POST', '/api/v1/auth/login', { body: credentials })).status).toBe(200);
  });
});

describe('DataDirLock, raced by several processes over one stale lock', () => {
  const LOCK_JS = resolve(__dirname, '../../dist/apps/api/src/database/data-dir-lock.js');
  const dir = mkdtempSync(join(tmpdir(), 'bp-lock-race-'));
  const dataDir = join(dir, 'pglite');

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lets exactly one of them take it', async () => {
    mkdirSync(dataDir);
    const stale = { pid: await deadPid(), host: hostname(), startedAt: 'earlier', token: 'stale' };
    writeFileSync(`${dataDir}.lock`, JSON.stringify(stale));
    // Each contender waits for a common start time, tries once, and holds a won lock for a while.
    const startAt = Date.now() + 1_500;
    const script = `
      const { DataDirLock } = require(${JSON.stringify(LOCK_JS)});
      while (Date.now() < ${startAt});
      try { DataDirLock.acquire(${JSON.stringify(dataDir)}); console.log('won'); setTimeout(() => {}, 1500); }
      catch (error) { console.log(error.code); }`;
    const outputs = await Promise.all(
      Array.from({ length: 6 }, () => {
        const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        return new Promise<string>((r) => child.once('exit', () => r(out.trim())));
      }),
    );
    expect(outputs.filter((o) => o === 'won')).toHaveLength(1);
    expect(outputs.filter((o) => o === 'E_DATA_DIR_LOCKED')).toHaveLength(5);
    // The winner released it at exit.
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  });
});
