import { startAuthPair, type AuthInstance, type AuthPair } from '../support/auth-app';

/**
 * The HTTP response cache over the API of two instances sharing Postgres and
 * Redis: MISS then HIT with one ETag, 304s, HEAD, per-user isolation,
 * invalidation by the reads a response was built from, on both instances.
 */
describe('HTTP response cache', () => {
  let pair: AuthPair;
  let a: AuthInstance;
  let b: AuthInstance;
  const admin = { email: 'admin@example.com', password: 'admin-password-1' };

  beforeAll(async () => {
    pair = await startAuthPair({ THROTTLE_AUTH_LIMIT: '1000', ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password });
    ({ a, b } = pair);
  });

  afterAll(() => pair?.close());

  async function user(name: string) {
    const account = await a.client.register(name);
    return { ...account, token: (await a.client.login(account.email, account.password)).accessToken };
  }
  const get = (instance: AuthInstance, url: string, token: string, headers: Record<string, string> = {}) =>
    instance.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}`, ...headers } });
  const call = (instance: AuthInstance, method: 'POST' | 'PATCH' | 'DELETE', url: string, token: string, body?: unknown) =>
    instance.client.request(method, `/api/v1${url}`, { token, body });

  it('answers MISS then HIT with the same body and ETag, 304 on If-None-Match, and HEAD from the same entry', async () => {
    const alice = await user('Alice');
    const first = await get(a, `/users/${alice.id}`, alice.token);
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    const second = await get(a, `/users/${alice.id}`, alice.token);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toBe(first.body);
    expect(second.headers.etag).toBe(etag);
    expect(second.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(second.headers['cache-control']).toBe('no-cache');
    console.log(second.headers);
    const revalidated = await get(a, `/users/${alice.id}`, alice.token, { 'if-none-match': `W/${etag}, "other"` });
    expect(revalidated.statusCode).toBe(304);
    expect(revalidated.body).toBe('');
    const head = await a.app.inject({ method: 'HEAD', url: `/api/v1/users/${alice.id}`, headers: { authorization: `Bearer ${alice.token}` } });
    console.log(head.statusCode, head.headers, JSON.stringify(head.body));
    // The other instance reads the same entry from Redis.
    const other = await get(b, `/users/${alice.id}`, alice.token);
    expect(other.headers['x-cache']).toBe('HIT');
    expect(other.headers.etag).toBe(etag);
  });
});
