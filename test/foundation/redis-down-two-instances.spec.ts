import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess } from '../support/app-process';
import { waitFor } from '../support/free-port';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { TestRedisServer } from '../support/redis-server';

/**
 * The acceptance test of the second invalidation channel: two compiled app
 * instances on one Postgres and one Redis; Redis is killed; every write on A
 * is seen by B's next read (B had the old value in its L1); after Redis is
 * back, the same holds over the Redis bus.
 */
describe('Two app instances while Redis is down: read-after-write', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-two-'));
  let redis: TestRedisServer;
  let db: TestDatabase;
  let a: AppProcess;
  let b: AppProcess;
  let token: string;
  let id: string;

  beforeAll(async () => {
    [redis, db] = await Promise.all([TestRedisServer.start(), createTestDatabase()]);
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      JWT_SECRET: randomBytes(32).toString('hex'),
      REDIS_COMMAND_TIMEOUT_MS: '300',
      REDIS_RECONNECT_MAX_DELAY_MS: '500',
    };
    a = await AppProcess.start(env, cwd);
    b = await AppProcess.start({ ...env, DB_MIGRATIONS_RUN: 'false' }, cwd);
    const credentials = { email: 'two@example.com', password: 'correct horse battery' };
    const registered = await a.send('POST', '/api/v1/auth/register', { body: { ...credentials, name: 'v0' } });
    expect(registered.status).toBe(201);
    id = registered.body.id;
    const login = await a.send('POST', '/api/v1/auth/login', { body: credentials });
    token = login.body.accessToken;
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.stop();
    await db?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  const nameOn = async (app: AppProcess) => {
    const response = await app.send('GET', `/api/v1/users/${id}`, { token });
    expect(response.status).toBe(200);
    return response.body.name as string;
  };

  /** Writes on A, reads on B right after A's answer; returns the stale reads. */
  async function writeAndRead(rounds: number, tag: string): Promise<string[]> {
    const stale: string[] = [];
    for (let i = 1; i <= rounds; i++) {
      const name = `${tag}${i}`;
      const patched = await a.send('PATCH', `/api/v1/users/${id}`, { token, body: { name } });
      expect(patched.status).toBe(200);
      const seen = await nameOn(b);
      if (seen !== name) stale.push(`${seen} after ${name}`);
      await nameOn(b); // cached on B again (L1) before the next write
    }
    return stale;
  }

  it('has zero stale reads on B while Redis is down, and after it is back', async () => {
    expect(await nameOn(b)).toBe('v0');
    expect(await nameOn(b)).toBe('v0');
    await redis.kill();
    await waitFor(
      async () => (await a.get('/health/redis')).status === 503 && (await b.get('/health/redis')).status === 503,
      10_000,
      'both instances to see Redis down',
    );
    expect(await writeAndRead(15, 'down')).toEqual([]);

    await redis.restart();
    await waitFor(
      async () => (await a.get('/health/redis')).status === 200 && (await b.get('/health/redis')).status === 200,
      10_000,
      'both instances to see Redis back',
    );
    expect(await writeAndRead(5, 'up')).toEqual([]);
  });
});
