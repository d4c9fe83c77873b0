import { createClient } from '@redis/client';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess } from '../support/app-process';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { TestRedisServer } from '../support/redis-server';

/** `INFO stats` counter of every connection the server ever accepted. */
async function connectionsReceived(client: ReturnType<typeof createClient>): Promise<number> {
  const match = /total_connections_received:(\d+)/.exec(await client.info('stats'));
  if (!match) throw new Error('INFO stats has no total_connections_received');
  return Number(match[1]);
}

describe('compiled app with CACHE_BACKEND=memory and REDIS_URL set', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-memory-'));
  let server: TestRedisServer;
  let db: TestDatabase;
  let app: AppProcess | undefined;
  let observer: ReturnType<typeof createClient>;

  beforeAll(async () => {
    [server, db] = await Promise.all([TestRedisServer.start(), createTestDatabase()]);
    observer = createClient({ url: server.url });
    observer.on('error', () => undefined);
    await observer.connect();
  });

  afterAll(async () => {
    await app?.stop();
    observer?.destroy();
    await server?.stop();
    await db?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('opens no Redis connection while it boots, serves cached and authenticated routes, and stops', async () => {
    const before = await connectionsReceived(observer);
    app = await AppProcess.start({ DATABASE_URL: db.url, REDIS_URL: server.url, CACHE_BACKEND: 'memory' }, cwd);

    // Exercise every path that would use Redis under auto: rate-limited auth, sessions, cached reads.
    const account = { email: `m${randomBytes(5).toString('hex')}@example.com`, password: 'correct horse battery' };
    const registered = await app.send('POST', '/api/v1/auth/register', { body: { ...account, name: 'Memory' } });
    expect(registered.status).toBe(201);
    const login = await app.send('POST', '/api/v1/auth/login', { body: account });
    expect(login.status).toBe(200);
    const token = login.body.accessToken as string;
    expect((await app.send('GET', '/api/v1/auth/me', { token })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      expect((await app.send('GET', `/api/v1/users/${registered.body.id}`, { token })).status).toBe(200);
    }
    const ready = await app.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details.redis).toMatchObject({ status: 'disabled', enabled: false });
    const redisCheck = await app.get('/health/redis');
    expect({ status: redisCheck.status, redis: redisCheck.body.details.redis }).toMatchObject({
      status: 200,
      redis: { status: 'disabled' },
    });

    // While the app runs: no client but the observer, and no connection ever accepted since it connected.
    const ownId = await observer.clientId();
    const others = (await observer.clientList()).filter((c) => c.id !== ownId);
    expect(others.map((c) => `${c.name || '(unnamed)'} ${c.addr}`)).toEqual([]);
    expect(await connectionsReceived(observer)).toBe(before);
    expect(await observer.dbSize()).toBe(0);

    expect(await app.stop()).toBe(0);
    expect(await connectionsReceived(observer)).toBe(before);
  });
});
