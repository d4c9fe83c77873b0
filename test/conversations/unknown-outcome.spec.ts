import { Client } from 'pg';
import { apiCall, startAuthInstance, type AuthInstance } from '../support/auth-app';
import { uniquePrefix } from '../support/cache-instance';
import { waitFor } from '../support/free-port';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { TestRedisServer } from '../support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';

/**
 * A conversation write whose answer from Postgres is lost fails (503), yet
 * Postgres may have applied it: the conversation's cached copies must go
 * anyway. A reaches Postgres through a proxy that cuts its connection right
 * after the write went through; B reads the conversation.
 */
describe('Conversation writes of unknown outcome', () => {
  let db: TestDatabase;
  let redis: TestRedisServer;
  let proxy: TcpProxy;
  let a: AuthInstance;
  let b: AuthInstance;

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), TestRedisServer.start()]);
    const viaProxy = await TcpProxy.inFrontOf(db.url);
    proxy = viaProxy.proxy;
    const env = { REDIS_URL: redis.url, CACHE_PREFIX: uniquePrefix(), THROTTLE_AUTH_LIMIT: '1000' };
    b = await startAuthInstance({ ...env, DATABASE_URL: db.url });
    a = await startAuthInstance({ ...env, DATABASE_URL: viaProxy.url });
  });

  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    await proxy?.stop();
    await redis?.stop();
    await db?.drop();
  });

  /** The title as Postgres holds it, read on a connection of its own. */
  async function storedTitle(id: string): Promise<string | undefined> {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ title: string }>('SELECT title FROM conversations WHERE id = $1', [id]);
      return rows[0]?.title;
    } finally {
      await client.end();
    }
  }

  it('drops the cached state of a conversation whose update reached Postgres but was never answered', async () => {
    const account = await b.client.register('Owner');
    const token = (await b.client.login(account.email, account.password)).accessToken;
    const room = (await apiCall(b, 'POST', '/boardrooms', token, { name: 'Room' })).json<{ id: string }>();
    const created = await apiCall(b, 'POST', `/boardrooms/${room.id}/conversations`, token, { title: 'before' });
    const id = created.json<{ id: string }>().id;
    const title = async () => (await apiCall(b, 'GET', `/conversations/${id}`, token)).json<{ title: string }>().title;
    expect(await title()).toBe('before'); // B holds the hot copy

    proxy.cutAfter('UPDATE "conversations"');
    const patched = await apiCall(a, 'PATCH', `/conversations/${id}`, token, { version: 1, title: 'after' });
    expect(patched.statusCode).toBe(503);
    await waitFor(async () => (await storedTitle(id)) === 'after', 10_000, 'Postgres to hold the new title');

    // The old code invalidated only after a write that answered: B served 'before' for the conversation TTL.
    expect(await title()).toBe('after');
  });
});
