import { randomUUID } from 'node:crypto';
import { DEV_JWT_SECRET } from '../src/config/env.schema';
import type { AuthClient } from '../../../test/support/auth-client';
import { startAuthInstance, type AuthInstance } from '../../../test/support/auth-app';
import { signHs256 as hs256, unsignedToken } from '../../../test/support/jwt';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres';

describe('Auth (e2e)', () => {
  let db: TestDatabase;
  let instance: AuthInstance;
  let client: AuthClient;
  const admin = { email: 'root@example.com', password: 'admin-password-1' };

  beforeAll(async () => {
    db = await createTestDatabase();
    instance = await startAuthInstance({
      DATABASE_URL: db.url,
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      THROTTLE_AUTH_LIMIT: '1000',
    });
    client = instance.client;
  });

  afterAll(async () => {
    await instance?.app.close();
    await db?.drop();
  });

  it('registers, logs in and answers me; the role is always user and the hash never leaves', async () => {
    const { email, password, id } = await client.register('Ada');
    const { accessToken, refreshToken } = await client.login(email.toUpperCase(), password);
    expect(refreshToken).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    const me = await client.request('GET', '/api/v1/auth/me', { token: accessToken });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ id, email, name: 'Ada', role: 'user' });
    expect(me.body).not.toMatch(/argon|hash|password/i);
  });

  it('takes a unicode email, stores it lower-cased and logs in with any case of it', async () => {
    const email = `Ünïcödé.${Date.now()}@Exämple.com`;
    const res = await client.request('POST', '/api/v1/auth/register', {
      body: { email, password: 'long enough pw', name: 'U' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().email).toBe(email.toLowerCase());
    await expect(client.login(email.toUpperCase(), 'long enough pw')).resolves.toHaveProperty('accessToken');
  });

  it('refuses a duplicate email case-insensitively with 409', async () => {
    const { email } = await client.register();
    const res = await client.request('POST', '/api/v1/auth/register', {
      body: { email: email.toUpperCase(), password: 'another password', name: 'X' },
    });
    expect(res.statusCode).toBe(409);
  });

  it('gives a wrong password and an unknown email the same 401', async () => {
    const { email } = await client.register();
    const wrong = await client.request('POST', '/api/v1/auth/login', { body: { email, password: 'not the password' } });
    const unknown = await client.request('POST', '/api/v1/auth/login', {
      body: { email: 'nobody@example.com', password: 'not the password' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
  });

  it.each([
    ['a bad email', { email: 'not-an-email', password: 'long enough pw', name: 'A' }],
    ['a short password', { email: 'a@example.com', password: 'short', name: 'A' }],
    ['a role', { email: 'b@example.com', password: 'long enough pw', name: 'A', role: 'admin' }],
    ['an unknown field', { email: 'c@example.com', password: 'long enough pw', name: 'A', isAdmin: true }],
    ['a missing name', { email: 'd@example.com', password: 'long enough pw' }],
    ['a NUL character in the name', { email: 'e@example.com', password: 'long enough pw', name: 'a\u0000b' }],
    // 158 characters as sent, 309 once lower-cased (each İ becomes i + U+0307): too long for the column.
    [
      'an email longer than 254 characters once lower-cased',
      { email: `${'İ'.repeat(32)}@${'İ'.repeat(60)}.${'İ'.repeat(60)}.com`, password: 'long enough pw', name: 'A' },
    ],
    ['an array body', [{ email: 'f@example.com', password: 'long enough pw', name: 'A' }]],
  ])('refuses registration with %s (400)', async (_what, body) => {
    const res = await client.request('POST', '/api/v1/auth/register', { body });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('rotates refresh tokens; reusing a rotated one is refused and ends the session', async () => {
    const { email, password } = await client.register();
    const first = await client.login(email, password);
    const rotated = await client.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: first.refreshToken },
    });
    expect(rotated.statusCode).toBe(200);
    const second = rotated.json();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(await client.me(second.accessToken)).toBe(200);

    const reuse = await client.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: first.refreshToken } });
    expect(reuse.statusCode).toBe(401);
    // The whole session is over: the newest refresh token and the session's access tokens too.
    const after = await client.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: second.refreshToken } });
    expect(after.statusCode).toBe(401);
    expect(await client.me(second.accessToken)).toBe(401);
    expect(await client.me(first.accessToken)).toBe(401);
  });

  it('lets one refresh token win when two refreshes race', async () => {
    const { email, password } = await client.register();
    const { refreshToken } = await client.login(email, password);
    const results = await Promise.all(
      [1, 2, 3].map(() => client.request('POST', '/api/v1/auth/refresh', { body: { refreshToken } })),
    );
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
  });

  it.each(['garbage', 'a.b', `${'0'.repeat(36)}.${'A'.repeat(43)}`, '00000000-0000-0000-0000-000000000000.x'])(
    'refuses a malformed refresh token %p with 401',
    async (refreshToken) => {
      const res = await client.request('POST', '/api/v1/auth/refresh', { body: { refreshToken } });
      expect(res.statusCode).toBe(401);
    },
  );

  it('logout revokes the token and its session; a second logout with it is 401', async () => {
    const { email, password } = await client.register();
    const pair = await client.login(email, password);
    expect((await client.request('POST', '/api/v1/auth/logout', { token: pair.accessToken })).statusCode).toBe(204);
    expect(await client.me(pair.accessToken)).toBe(401);
    const refresh = await client.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } });
    expect(refresh.statusCode).toBe(401);
    expect((await client.request('POST', '/api/v1/auth/logout', { token: pair.accessToken })).statusCode).toBe(401);
  });

  it('logout-all ends every session of the user and no one else', async () => {
    const user = await client.register();
    const other = await client.register();
    const a = await client.login(user.email, user.password);
    const b = await client.login(user.email, user.password);
    const stranger = await client.login(other.email, other.password);
    expect((await client.request('POST', '/api/v1/auth/logout-all', { token: a.accessToken })).statusCode).toBe(204);
    expect(await client.me(a.accessToken)).toBe(401);
    expect(await client.me(b.accessToken)).toBe(401);
    const refresh = await client.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: b.refreshToken } });
    expect(refresh.statusCode).toBe(401);
    expect(await client.me(stranger.accessToken)).toBe(200);
  });

  it('lists own sessions without secrets and revokes one (404 for another user’s)', async () => {
    const user = await client.register();
    const other = await client.register();
    const a = await client.login(user.email, user.password);
    const b = await client.login(user.email, user.password);
    const list = await client.request('GET', '/api/v1/auth/sessions', { token: a.accessToken });
    expect(list.statusCode).toBe(200);
    const sessions = list.json();
    expect(sessions).toHaveLength(2);
    expect(Object.keys(sessions[0]).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'ip', 'lastUsedAt', 'userAgent']);
    expect(list.body).not.toContain(a.refreshToken.split('.')[1]);

    const bId = b.refreshToken.split('.')[0];
    const otherToken = (await client.login(other.email, other.password)).accessToken;
    expect((await client.request('DELETE', `/api/v1/auth/sessions/${bId}`, { token: otherToken })).statusCode).toBe(
      404,
    );
    expect(await client.me(b.accessToken)).toBe(200);
    expect((await client.request('DELETE', `/api/v1/auth/sessions/${bId}`, { token: a.accessToken })).statusCode).toBe(
      204,
    );
    expect(await client.me(b.accessToken)).toBe(401);
    expect(await client.me(a.accessToken)).toBe(200);
    expect((await client.request('GET', '/api/v1/auth/sessions', { token: a.accessToken })).json()).toHaveLength(1);
    expect(
      (await client.request('DELETE', '/api/v1/auth/sessions/not-a-uuid', { token: a.accessToken })).statusCode,
    ).toBe(400);
  });

  describe('refuses bad access tokens with 401, never 500', () => {
    let valid: string;
    let id: string;
    beforeAll(async () => {
      const user = await client.register();
      id = user.id;
      valid = (await client.login(user.email, user.password)).accessToken;
    });
    const now = () => Math.floor(Date.now() / 1000);
    const claims = () => ({
      sub: id,
      role: 'admin',
      sid: '00000000-0000-4000-8000-000000000000',
      jti: randomUUID(),
      iat: now(),
    });

    it.each<[string, () => string | undefined]>([
      ['no token', () => undefined],
      ['garbage', () => 'garbage'],
      ['a truncated token', () => valid.slice(0, -10)],
      ['a wrong signature', () => hs256({ ...claims(), exp: now() + 60 }, 'another secret of at least 32 chars!!')],
      ['alg none', () => unsignedToken({ ...claims(), exp: now() + 60 })],
      ['an expired token', () => hs256({ ...claims(), iat: now() - 120, exp: now() - 60 }, DEV_JWT_SECRET)],
      ['a token without jti', () => hs256({ sub: id, role: 'user', sid: 's', exp: now() + 60 }, DEV_JWT_SECRET)],
    ])('%s', async (_what, token) => {
      const res = await client.request('GET', '/api/v1/auth/me', { token: token() });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    });

    it('accepts a token signed with the right secret (the signer above is sound)', async () => {
      const token = hs256({ ...claims(), role: 'user', exp: now() + 60 }, DEV_JWT_SECRET);
      expect(await client.me(token)).toBe(200);
    });
  });

  it('lets the bootstrapped admin in and keeps a user out of an admin route (403)', async () => {
    const user = await client.register();
    const userToken = (await client.login(user.email, user.password)).accessToken;
    const adminToken = (await client.login(admin.email, admin.password)).accessToken;
    // `DELETE /users/:id` is admin-only: an admin passes the guards and finds no such user (404).
    const adminRoute = (token?: string) =>
      client.request('DELETE', '/api/v1/users/00000000-0000-4000-8000-000000000000', { token });
    expect((await adminRoute(userToken)).statusCode).toBe(403);
    expect((await adminRoute(adminToken)).statusCode).toBe(404);
    expect((await adminRoute()).statusCode).toBe(401);
  });

  it('keeps probes and Prometheus public', async () => {
    expect((await client.request('GET', '/health/live')).statusCode).toBe(200);
    expect((await client.request('GET', '/metrics')).statusCode).toBe(200);
  });
});
