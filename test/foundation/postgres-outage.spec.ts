import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess } from '../support/app-process';
import { waitFor } from '../support/free-port';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { TestRedisServer } from '../support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';

const QUERY_TIMEOUT_MS = 1_000;
const CONNECT_TIMEOUT_MS = 1_000;
/**
 * What "does not hang" means for a DB-bound request: waiting for a pool slot
 * or a new connection, then the query deadline, plus HTTP and scheduling
 * slack on a busy 2-core VM. Without deadlines these requests never answer.
 */
const HANG_LIMIT_MS = CONNECT_TIMEOUT_MS + QUERY_TIMEOUT_MS + 2_000;
/** The client-side deadline of the test's own requests: longer than the bound, so a hang shows as a slow answer. */
const CLIENT_TIMEOUT_MS = 15_000;

// With Redis too, the cache's Postgres invalidation channel holds a connection through the proxy as well.
describe.each(['memory', 'redis'] as const)('Postgres that hangs (a blackholed connection), cache %s', (backend) => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-pg-outage-'));
  let redis: TestRedisServer | undefined;
  let db: TestDatabase;
  let proxy: TcpProxy;
  let app: AppProcess;
  let token: string;
  let userId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    if (backend === 'redis') redis = await TestRedisServer.start();
    const viaProxy = await TcpProxy.inFrontOf(db.url);
    proxy = viaProxy.proxy;
    app = await AppProcess.start(
      {
        DATABASE_URL: viaProxy.url,
        CACHE_BACKEND: backend,
        ...(redis && { REDIS_URL: redis.url }),
        DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
        DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      },
      cwd,
    );
    const credentials = { email: 'outage@example.com', password: 'correct horse battery' };
    const registered = await app.send('POST', '/api/v1/auth/register', { body: { ...credentials, name: 'Outage' } });
    expect(registered.status).toBe(201);
    userId = registered.body.id;
    const login = await app.send('POST', '/api/v1/auth/login', { body: credentials });
    expect(login.status).toBe(200);
    token = login.body.accessToken;
  });

  afterAll(async () => {
    await app?.stop();
    await proxy?.stop();
    await redis?.stop();
    await db?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  const send = (method: string, path: string, body?: unknown) =>
    app.send(method, path, { token, body, timeoutMs: CLIENT_TIMEOUT_MS });

  it('answers 503 within the deadline, keeps serving cached reads, and recovers on fresh connections', async () => {
    // Warm the cache and the pool (several connections in it).
    expect((await send('GET', `/api/v1/users/${userId}`)).status).toBe(200);
    const warm = await Promise.all([1, 2, 3, 4].map(() => send('GET', '/api/v1/auth/sessions')));
    expect(warm.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await app.get('/health/ready')).status).toBe(200);

    proxy.blackhole();

    // Requests on pooled connections (already open), concurrently so several connections hang mid-query.
    const during = await Promise.all([1, 2, 3].map(() => send('GET', '/api/v1/auth/sessions')));
    for (const response of during) {
      expect(response.status).toBe(503);
      expect(response.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'The database is unavailable; retry later',
      });
      expect(response.ms).toBeLessThan(HANG_LIMIT_MS);
    }
    // A write too.
    const write = await send('PATCH', `/api/v1/users/${userId}`, { name: 'During the outage' });
    expect(write.status).toBe(503);
    expect(write.ms).toBeLessThan(HANG_LIMIT_MS);

    // A cached read does not touch the database.
    const cached = await send('GET', `/api/v1/users/${userId}`);
    expect(cached.status).toBe(200);
    expect(cached.body).toMatchObject({ id: userId, name: 'Outage' });

    const ready = await app.get('/health/ready', CLIENT_TIMEOUT_MS);
    expect(ready.status).toBe(503);
    expect(ready.body.details.database.status).toBe('down');
    expect(ready.ms).toBeLessThan(HANG_LIMIT_MS);
    expect((await app.get('/health/live')).status).toBe(200);

    // Postgres has missed three calls in a row: the app's gate stops asking it (one probe a second),
    // so requests that need it answer 503 at once instead of each opening a connection and waiting.
    const accepted = proxy.accepted;
    const shut = await Promise.all(Array.from({ length: 20 }, () => send('GET', '/api/v1/auth/sessions')));
    expect(shut.map((r) => r.status)).toEqual(Array(20).fill(503));
    expect(proxy.accepted - accepted).toBeLessThan(10);

    // Every connection whose query went unanswered is dropped by the app, not put back in the pool.
    expect(proxy.lostTotal).toBeGreaterThanOrEqual(3);
    await waitFor(() => proxy.lostOpen === 0, QUERY_TIMEOUT_MS + 5_000, 'the app to close its hung connections');

    proxy.resume();

    await waitFor(
      async () => (await app.get('/health/ready')).status === 200,
      10_000,
      '/health/ready to turn 200 again',
    );
    // Sequential and concurrent DB-bound requests all succeed: no dead connection was reused.
    for (let i = 0; i < 5; i++) expect((await send('GET', '/api/v1/auth/sessions')).status).toBe(200);
    const after = await Promise.all([1, 2, 3, 4, 5, 6].map(() => send('GET', '/api/v1/auth/sessions')));
    expect(after.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const patched = await send('PATCH', `/api/v1/users/${userId}`, { name: 'After the outage' });
    expect(patched.status).toBe(200);
    expect((await send('GET', `/api/v1/users/${userId}`)).body.name).toBe('After the outage');
  });
});
