import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess } from '../support/app-process';
import { FailoverChecks, waitForRedisHealth, type TestAccount } from '../support/failover-checks';
import { freePort } from '../support/free-port';
import { uniquePrefix } from '../support/cache-instance';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { SENTINEL_MASTER, TestSentinelGroup } from '../support/redis-sentinel';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Two compiled app instances on Redis Sentinel (a master, a replica, three
 * sentinels, all with a password) and one Postgres. Through a graceful
 * `SENTINEL FAILOVER` and then a killed master, the app carries on: cached
 * reads keep answering 200, a read after a write (on the other instance)
 * sees the write, a revoked token is refused everywhere, and the cache works
 * on the new master (its keys are there).
 */
describe('Redis Sentinel: the app through a failover and a killed master', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-sentinel-app-'));
  const password = 'sentinel-data-password';
  let group: TestSentinelGroup;
  let db: TestDatabase;
  let apps: AppProcess[];
  let prefix: string;

  beforeAll(async () => {
    [group, db] = await Promise.all([TestSentinelGroup.start({ password }), createTestDatabase()]);
    prefix = uniquePrefix();
    const env = {
      DATABASE_URL: db.url,
      REDIS_SENTINELS: group.nodes,
      REDIS_SENTINEL_MASTER: SENTINEL_MASTER,
      REDIS_PASSWORD: password,
      CACHE_BACKEND: 'redis',
      CACHE_PREFIX: prefix,
      JWT_SECRET: randomBytes(32).toString('hex'),
      THROTTLE_AUTH_LIMIT: '200',
      // The checks below read every 20 ms through failovers and write and read in loops: hundreds
      // of one user's requests a minute, near the default 600. The general limit is not their subject.
      THROTTLE_LIMIT: '1000000',
      LOG_LEVEL: 'warn',
    };
    apps = [];
    for (let i = 0; i < 2; i++) apps.push(await AppProcess.start(env, cwd));
    for (const app of apps) await waitForRedisHealth(app);
  });
  afterAll(async () => {
    await Promise.all((apps ?? []).map((app) => app.stop()));
    await group?.stop();
    await db?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  async function waitForOutput(app: AppProcess, pattern: RegExp, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(app.output)) {
      if (Date.now() > deadline)
        throw new Error(`no ${String(pattern)} in the app's output\n${app.output.slice(-3000)}`);
      await sleep(50);
    }
  }

  const checks = new FailoverChecks(() => apps, 'sentinel');
  const account = () => checks.account();
  const writeThenRead = (user: TestAccount, name: string, writer: number) => checks.writeThenRead(user, name, writer);
  const readsDuring = (user: TestAccount, until: Promise<unknown>) => checks.readsDuring(user, until);
  const refusedEverywhere = (token: string) => checks.refusedEverywhere(token);

  async function cacheKeysOn(port: number): Promise<number> {
    const keys = (await group.serverCommand(port, ['KEYS', `${prefix}:*`])) as string[];
    return keys.length;
  }

  it('serves, caches and revokes through the sentinels’ master', async () => {
    const master = await group.masterPort();
    const user = await account();
    await writeThenRead(user, 'before', 0);
    expect(await cacheKeysOn(master)).toBeGreaterThan(0);
    const revoked = await account();
    expect((await apps[0].send('POST', '/api/v1/auth/logout', { token: revoked.token })).status).toBe(204);
    await refusedEverywhere(revoked.token);
  });

  it('carries on through SENTINEL FAILOVER: no failed read, read-after-write and revocations hold on the new master', async () => {
    const old = await group.masterPort();
    const user = await account();
    const revokedBefore = await account();
    await writeThenRead(user, 'warm', 1);
    expect((await apps[1].send('POST', '/api/v1/auth/logout', { token: revokedBefore.token })).status).toBe(204);

    const switched = (async () => {
      await group.failover();
      return group.waitForMasterOtherThan(old);
    })();
    const statuses = await readsDuring(user, switched);
    const fresh = await switched;
    const keysAtSwitch = await cacheKeysOn(fresh); // what the replica had copied
    expect(statuses.length).toBeGreaterThan(5);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    for (const app of apps) await waitForRedisHealth(app);
    // Each instance saw the master change (and so dropped its L1: bus messages may have been lost in the switch).
    for (const app of apps) await waitForOutput(app, /Redis master lost \(master changed to 127\.0\.0\.1:\d+\)/);
    await writeThenRead(user, 'after failover', 0);
    await writeThenRead(user, 'after failover, other instance', 1);
    await refusedEverywhere(revokedBefore.token);
    const revokedAfter = await account();
    expect((await apps[0].send('POST', '/api/v1/auth/logout', { token: revokedAfter.token })).status).toBe(204);
    await refusedEverywhere(revokedAfter.token);
    // The cache writes to the new master.
    await writeThenRead(await account(), 'a new user', 0);
    expect(await cacheKeysOn(fresh)).toBeGreaterThan(keysAtSwitch);
  });

  it('carries on when the master is killed: reads keep answering, and after the promotion nothing stale or revoked gets through', async () => {
    const doomed = await group.master();
    const user = await account();
    const revokedBefore = await account();
    await writeThenRead(user, 'before the kill', 0);
    expect((await apps[0].send('POST', '/api/v1/auth/logout', { token: revokedBefore.token })).status).toBe(204);

    await doomed.kill();
    const promoted = group.waitForMasterOtherThan(doomed.port);
    // While no master answers: cached reads are served (from L1, and the loaders), a write still
    // lands (Postgres), and its invalidation reaches the other instance through Postgres.
    const statuses = await readsDuring(user, sleep(1_500));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    await writeThenRead(user, 'while no master', 1);
    const revokedDuring = await account();
    expect((await apps[1].send('POST', '/api/v1/auth/logout', { token: revokedDuring.token })).status).toBe(204);
    await refusedEverywhere(revokedDuring.token);

    const fresh = await promoted;
    const keysAtPromotion = await cacheKeysOn(fresh);
    for (const app of apps) await waitForRedisHealth(app);
    await writeThenRead(user, 'after the promotion', 0);
    await writeThenRead(user, 'after the promotion, other instance', 1);
    for (const token of [revokedBefore.token, revokedDuring.token]) await refusedEverywhere(token);
    await writeThenRead(await account(), 'a new user', 1);
    expect(await cacheKeysOn(fresh)).toBeGreaterThan(keysAtPromotion);
  });

  it('boots while no sentinel answers, serving without Redis, and connects once they are up', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const late = await AppProcess.start(
      {
        DATABASE_URL: db.url,
        REDIS_SENTINELS: ports.map((p) => `127.0.0.1:${p}`).join(','),
        REDIS_SENTINEL_MASTER: SENTINEL_MASTER,
        REDIS_PASSWORD: password,
        CACHE_PREFIX: uniquePrefix(),
        JWT_SECRET: randomBytes(32).toString('hex'),
        LOG_LEVEL: 'info',
      },
      cwd,
    );
    let second: TestSentinelGroup | undefined;
    try {
      expect((await late.get('/health/ready')).status).toBe(200);
      expect((await late.get('/health/redis')).status).toBe(503);
      await sleep(3_000); // a few failed attempts
      second = await TestSentinelGroup.start({ password, sentinelPorts: ports });
      await waitForRedisHealth(late);
      await waitForOutput(late, /Redis ready via sentinel master/);
      // node-redis's Sentinel client prints its failed connect attempts to stdout: it was started only once they answered.
      expect(late.output).not.toMatch(/None of the sentinels are available/);
      expect(late.output.split('\n').filter((line) => line.trim() && !line.startsWith('{'))).toEqual([]);
    } finally {
      await late.stop();
      await second?.stop();
    }
  });
});
