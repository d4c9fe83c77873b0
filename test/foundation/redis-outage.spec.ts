import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess } from '../support/app-process';
import { waitFor } from '../support/free-port';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { TestRedisServer } from '../support/redis-server';

const COMMAND_TIMEOUT_MS = 300;
/** What "does not hang" means here: the command deadline plus HTTP and scheduling slack on a busy 2-core VM. */
const HANG_LIMIT_MS = COMMAND_TIMEOUT_MS + 1_200;

describe.each(['auto', 'redis'] as const)('Redis outage with CACHE_BACKEND=%s', (backend) => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-outage-'));
  let redis: TestRedisServer;
  let db: TestDatabase;
  let app: AppProcess;

  beforeAll(async () => {
    [redis, db] = await Promise.all([TestRedisServer.start(), createTestDatabase()]);
    app = await AppProcess.start(
      {
        DATABASE_URL: db.url,
        REDIS_URL: redis.url,
        CACHE_BACKEND: backend,
        REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
        REDIS_RECONNECT_MAX_DELAY_MS: '1000',
      },
      cwd,
    );
  });

  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
    await db?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  const expectRedisDown = async () => {
    const [redisCheck, ready, live] = await Promise.all([
      app.get('/health/redis'),
      app.get('/health/ready'),
      app.get('/health/live'),
    ]);
    expect(redisCheck.status).toBe(503);
    expect(redisCheck.body.details.redis).toMatchObject({ status: 'down' });
    expect(typeof redisCheck.body.details.redis.latencyMs).toBe('number');
    expect(live.status).toBe(200);
    if (backend === 'auto') {
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('degraded');
      expect(ready.body.details.redis).toMatchObject({ status: 'degraded', fallback: 'memory' });
    } else {
      expect(ready.status).toBe(503);
      expect(ready.body.details.redis.status).toBe('down');
    }
    expect(ready.body.details.database.status).toBe('up');
    for (const response of [redisCheck, ready, live]) expect(response.ms).toBeLessThan(HANG_LIMIT_MS);
  };

  const expectRedisBackWithin5s = () =>
    waitFor(async () => (await app.get('/health/redis')).status === 200, 5_000, '/health/redis to turn 200');

  it('is ready with Redis up and reports its latency', async () => {
    const ready = await app.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
    const redisCheck = await app.get('/health/redis');
    expect(redisCheck.status).toBe(200);
    // No address: the probes answer anyone.
    expect(redisCheck.body.details.redis).toEqual({ status: 'up', latencyMs: expect.any(Number) });
  });

  it('reports a killed Redis without hanging, and returns to it within 5 s of its restart', async () => {
    await redis.kill();
    await expectRedisDown();
    await redis.restart();
    await expectRedisBackWithin5s();
    expect((await app.get('/health/ready')).status).toBe(200);
  });

  it('treats a paused Redis (SIGSTOP) as down within the command deadline, and recovers on SIGCONT', async () => {
    redis.pause();
    try {
      await expectRedisDown();
    } finally {
      redis.resume();
    }
    await expectRedisBackWithin5s();
    expect((await app.get('/health/ready')).body.status).toBe('ok');
  });
});
