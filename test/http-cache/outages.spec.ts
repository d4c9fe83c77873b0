import { startAuthInstance, type AuthInstance } from '../support/auth-app';
import { uniquePrefix } from '../support/cache-instance';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { TestRedisServer } from '../support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../support/free-port';

const QUERY_TIMEOUT_MS = 1_000;

/**
 * The HTTP cache when its dependencies fail: a killed Redis leaves cached
 * routes answering 200 (from L1 or the handler); an unreachable Postgres
 * leaves cached responses served, expired ones inside grace as STALE, and
 * uncached ones a 503 within the query deadline.
 */
describe('HTTP response cache under outages', () => {
  let db: TestDatabase;
  let redis: TestRedisServer;
  let proxy: TcpProxy;
  let app: AuthInstance;

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), TestRedisServer.start()]);
    const viaProxy = await TcpProxy.inFrontOf(db.url);
    proxy = viaProxy.proxy;
    app = await startAuthInstance({
      DATABASE_URL: viaProxy.url,
      REDIS_URL: redis.url,
      CACHE_PREFIX: uniquePrefix(),
      // Short lives, so an entry can expire during the test; a long grace to serve it stale.
      CACHE_TTL_HTTP: '2',
      CACHE_TTL_QUERY: '2',
      CACHE_GRACE_HTTP: '600',
      DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
      DB_CONNECT_TIMEOUT_MS: '1000',
      THROTTLE_LIMIT: '0',
      THROTTLE_AUTH_LIMIT: '1000',
    });
  });

  afterAll(async () => {
    await app?.app.close();
    await proxy?.stop();
    await redis?.stop();
    await db?.drop();
  });

  async function user(name: string) {
    const account = await app.client.register(name);
    return { ...account, token: (await app.client.login(account.email, account.password)).accessToken };
  }
  const get = (url: string, token: string) =>
    app.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` } });

  it('serves cached responses, stale ones inside grace, and 503 for the rest while Postgres hangs', async () => {
    const caller = await user('Caller');
    const old = await user('Old');
    const recent = await user('Recent');
    const never = await user('Never read');
    const first = await get(`/users/${old.id}`, caller.token);
    expect(first.headers['x-cache']).toBe('MISS');
    await new Promise((r) => setTimeout(r, 2_200)); // its response and the reads behind it expire
    expect((await get(`/users/${recent.id}`, caller.token)).headers['x-cache']).toBe('MISS');

    proxy.blackhole();
    try {
      const fresh = await get(`/users/${recent.id}`, caller.token);
      expect([fresh.statusCode, fresh.headers['x-cache']]).toEqual([200, 'HIT']);

      const stale = await get(`/users/${old.id}`, caller.token);
      expect([stale.statusCode, stale.headers['x-cache']]).toEqual([200, 'STALE']);
      expect(stale.body).toBe(first.body);
      expect(Number(stale.headers.age)).toBeGreaterThanOrEqual(2);

      const uncached = await get(`/users/${never.id}`, caller.token);
      expect(uncached.statusCode).toBe(503);
      expect(uncached.headers['x-cache']).toBeUndefined();
    } finally {
      proxy.resume();
      // The gate in front of Postgres shut during the outage; its next probe opens it again.
      await waitFor(
        async () => (await app.app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200,
        10_000,
        'the app to reach Postgres again',
      );
    }
  });

  it('answers 200 on cached routes after Redis is killed: from L1, or from the handler', async () => {
    const caller = await user('Caller');
    const target = await user('Target');
    expect((await get(`/users/${target.id}`, caller.token)).headers['x-cache']).toBe('MISS');
    await redis.kill();
    const cached = await get(`/users/${target.id}`, caller.token);
    expect(cached.statusCode).toBe(200);
    expect(['HIT', 'MISS']).toContain(cached.headers['x-cache']);
    const me = await get('/auth/me', caller.token);
    expect([me.statusCode, me.json().id]).toEqual([200, caller.id]);
    const again = await get('/auth/me', caller.token);
    expect([again.statusCode, again.headers['x-cache']]).toEqual([200, 'HIT']);
  });
});
