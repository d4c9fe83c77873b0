import { CacheService } from '@app/cache';
import { UserEntity } from '@app/auth';
import { DataSource } from 'typeorm';
import { apiCall, startAuthPair, type AuthInstance, type AuthPair } from '../support/auth-app';

/**
 * Users and boardrooms through the HTTP API of two instances sharing
 * Postgres and Redis: every read is cached, and after any write on A the
 * next read on B returns the new state (lists and counts included).
 */
describe('Users and boardrooms: cached reads, invalidating writes', () => {
  let pair: AuthPair;
  let a: AuthInstance;
  let b: AuthInstance;
  const admin = { email: 'admin@example.com', password: 'admin-password-1' };

  beforeAll(async () => {
    pair = await startAuthPair({
      THROTTLE_AUTH_LIMIT: '1000',
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
    });
    ({ a, b } = pair);
  });

  afterAll(() => pair?.close());

  async function user(name: string) {
    const account = await a.client.register(name);
    return { ...account, token: (await a.client.login(account.email, account.password)).accessToken };
  }
  const call = apiCall;
  const queryHits = (instance: AuthInstance) => {
    const stats = instance.app.get(CacheService).stats() as Record<string, Record<string, { hits: number }>>;
    return (stats.query?.l1?.hits ?? 0) + (stats.query?.l2?.hits ?? 0);
  };

  it('shows a member’s new name in the boardroom on the other instance, from the cache otherwise', async () => {
    const owner = await user('Owner');
    const member = await user('Member');
    const room = (await call(a, 'POST', '/boardrooms', owner.token, { name: 'Strategy' })).json();
    expect(
      (await call(a, 'POST', `/boardrooms/${room.id}/members`, owner.token, { userId: member.id })).statusCode,
    ).toBe(201);

    const first = await call(b, 'GET', `/boardrooms/${room.id}`, member.token);
    expect(first.statusCode).toBe(200);
    expect(first.json().members.map((m: { name: string }) => m.name)).toEqual(['Owner', 'Member']);
    const hits = queryHits(b);
    const again = await call(b, 'GET', `/boardrooms/${room.id}`, member.token);
    expect(again.json()).toEqual(first.json());
    // The stored response answers: not even the cached reads behind it run.
    expect(again.headers['x-cache']).toBe('HIT');
    expect(queryHits(b)).toBe(hits);
    // Without the response cache, both reads (the membership check and the boardroom) are query-cache hits.
    const bypassed = await b.app.inject({
      method: 'GET',
      url: `/api/v1/boardrooms/${room.id}`,
      headers: { authorization: `Bearer ${member.token}`, 'cache-control': 'no-cache' },
    });
    expect(bypassed.headers['x-cache']).toBe('BYPASS');
    expect(queryHits(b)).toBe(hits + 2);

    expect((await call(a, 'PATCH', `/users/${member.id}`, member.token, { name: 'Renamed' })).statusCode).toBe(200);
    const after = await call(b, 'GET', `/boardrooms/${room.id}`, owner.token);
    expect(after.json().members.map((m: { name: string }) => m.name)).toEqual(['Owner', 'Renamed']);
    expect((await call(b, 'GET', `/users/${member.id}`, owner.token)).json().name).toBe('Renamed');
  });

  it('keeps "my boardrooms" pages and totals fresh across instances', async () => {
    const owner = await user('Lister');
    const page = async () => (await call(b, 'GET', '/boardrooms?page=1&limit=2', owner.token)).json();
    expect(await page()).toEqual({ items: [], page: 1, limit: 2, total: 0 });
    for (const name of ['One', 'Two', 'Three']) await call(a, 'POST', '/boardrooms', owner.token, { name });
    const listed = await page();
    expect(listed.total).toBe(3);
    expect(listed.items.map((r: { name: string }) => r.name)).toEqual(['Three', 'Two']);

    await call(a, 'PATCH', `/boardrooms/${listed.items[0].id}`, owner.token, { name: 'Third' });
    expect((await page()).items[0].name).toBe('Third');
    await call(a, 'DELETE', `/boardrooms/${listed.items[0].id}`, owner.token);
    const afterDelete = await page();
    expect(afterDelete.total).toBe(2);
    expect(afterDelete.items.map((r: { name: string }) => r.name)).toEqual(['Two', 'One']);
  });

  it('updates member lists and totals when an admin deletes a user, and ends their tokens', async () => {
    const owner = await user('Keeper');
    const leaving = await user('Leaving');
    const room = (await call(a, 'POST', '/boardrooms', owner.token, { name: 'Room' })).json();
    await call(a, 'POST', `/boardrooms/${room.id}/members`, owner.token, { userId: leaving.id });
    expect((await call(b, 'GET', `/boardrooms/${room.id}`, owner.token)).json().members).toHaveLength(2);
    const total = (await call(b, 'GET', '/users?limit=1', owner.token)).json().total;
    const adminToken = (await a.client.login(admin.email, admin.password)).accessToken;

    expect((await call(a, 'DELETE', `/users/${leaving.id}`, owner.token)).statusCode).toBe(403);
    expect((await call(a, 'DELETE', `/users/${leaving.id}`, adminToken)).statusCode).toBe(204);
    const members = (await call(b, 'GET', `/boardrooms/${room.id}`, owner.token)).json().members;
    expect(members.map((m: { name: string }) => m.name)).toEqual(['Keeper']);
    expect((await call(b, 'GET', `/users/${leaving.id}`, owner.token)).statusCode).toBe(404);
    expect((await call(b, 'GET', '/users?limit=1', owner.token)).json().total).toBe(total - 1);
    expect(await b.client.me(leaving.token)).toBe(401);
    // Refused as a revoked token, not only because `me` finds no account.
    expect((await call(b, 'GET', '/users?limit=1', leaving.token)).statusCode).toBe(401);
  });

  it('hides a boardroom from non-members (404), lets members read but not write (403)', async () => {
    const owner = await user('Boss');
    const member = await user('Reader');
    const stranger = await user('Stranger');
    const room = (await call(a, 'POST', '/boardrooms', owner.token, { name: 'Private' })).json();
    await call(a, 'POST', `/boardrooms/${room.id}/members`, owner.token, { userId: member.id });

    expect((await call(b, 'GET', `/boardrooms/${room.id}`, stranger.token)).statusCode).toBe(404);
    expect((await call(b, 'GET', `/boardrooms/${room.id}`, member.token)).statusCode).toBe(200);
    expect((await call(b, 'PATCH', `/boardrooms/${room.id}`, member.token, { name: 'Mine now' })).statusCode).toBe(403);
    expect((await call(b, 'DELETE', `/boardrooms/${room.id}`, stranger.token)).statusCode).toBe(404);
    // Removing the member takes their access away on the other instance at once.
    expect((await call(a, 'DELETE', `/boardrooms/${room.id}/members/${member.id}`, owner.token)).statusCode).toBe(204);
    expect((await call(b, 'GET', `/boardrooms/${room.id}`, member.token)).statusCode).toBe(404);
    // A user may change only their own account, and never their role.
    expect((await call(a, 'PATCH', `/users/${owner.id}`, member.token, { name: 'Hijack' })).statusCode).toBe(403);
    expect((await call(a, 'PATCH', `/users/${member.id}`, member.token, { role: 'admin' })).statusCode).toBe(403);
  });

  it('lets a member added by an upper-case id in at once, on either instance (no stale "not a member")', async () => {
    const owner = await user('Upper owner');
    const member = await user('Upper member');
    const room = (await call(a, 'POST', '/boardrooms', owner.token, { name: 'Shouting' })).json();
    // The member's membership check is cached on both instances: "not a member".
    expect((await call(a, 'GET', `/boardrooms/${room.id}`, member.token)).statusCode).toBe(404);
    expect((await call(b, 'GET', `/boardrooms/${room.id}`, member.token)).statusCode).toBe(404);
    const added = await call(a, 'POST', `/boardrooms/${room.id}/members`, owner.token, {
      userId: member.id.toUpperCase(),
    });
    expect(added.statusCode).toBe(201);
    expect(added.json().members.map((m: { userId: string }) => m.userId)).toEqual([owner.id, member.id]);
    // Well inside the membership TTL (5 s): only the invalidation can make these 200.
    expect((await call(a, 'GET', `/boardrooms/${room.id}`, member.token)).statusCode).toBe(200);
    expect((await call(b, 'GET', `/boardrooms/${room.id}`, member.token)).statusCode).toBe(200);
    expect(
      (await call(a, 'POST', `/boardrooms/${room.id}/members`, owner.token, { userId: member.id })).statusCode,
    ).toBe(409);
  });

  it('answers 401 to a boardroom or a conversation created by an account deleted under a live token, not a 500', async () => {
    const adminToken = (await a.client.login(admin.email, admin.password)).accessToken;
    const owner = await user('Room for the gone');
    const room = (await call(a, 'POST', '/boardrooms', owner.token, { name: 'Stays' })).json();
    const gone = await user('Gone user');
    const goneAdmin = await a.client.register('Gone admin');
    await call(a, 'PATCH', `/users/${goneAdmin.id}`, adminToken, { role: 'admin' });
    const goneAdminToken = (await a.client.login(goneAdmin.email, goneAdmin.password)).accessToken;
    // The rows go without the service (which would revoke the tokens): the window between a
    // request passing the guard and a delete committing, held open.
    await a.app.get(DataSource).query(`DELETE FROM "users" WHERE "id" = ANY($1)`, [[gone.id, goneAdmin.id]]);

    const created = await call(b, 'POST', '/boardrooms', gone.token, { name: 'Orphan' });
    expect([created.statusCode, created.json().message]).toEqual([401, 'Account no longer exists']);
    const started = await call(b, 'POST', `/boardrooms/${room.id}/conversations`, goneAdminToken, {});
    expect([started.statusCode, started.json().message]).toEqual([401, 'Account no longer exists']);
    expect((await call(b, 'GET', '/boardrooms', owner.token)).json().total).toBe(1);
  });

  it('answers concurrent adds of one member with 201 or 409, never 500', async () => {
    const owner = await user('Racer');
    const room = (await call(a, 'POST', '/boardrooms', owner.token, { name: 'Race' })).json();
    const statuses: number[] = [];
    for (const name of ['m1', 'm2', 'm3']) {
      const member = await a.client.register(name);
      const adds = await Promise.all(
        Array.from({ length: 6 }, () =>
          call(a, 'POST', `/boardrooms/${room.id}/members`, owner.token, { userId: member.id }),
        ),
      );
      statuses.push(...adds.map((r) => r.statusCode));
    }
    expect(statuses.filter((s) => s !== 201 && s !== 409)).toEqual([]);
    const members = (await call(a, 'GET', `/boardrooms/${room.id}`, owner.token)).json().members;
    expect(members.map((m: { name: string }) => m.name)).toEqual(['Racer', 'm1', 'm2', 'm3']);
  });

  it('answers 404 to an admin deleting, or adding a member to, a boardroom that does not exist', async () => {
    const adminToken = (await a.client.login(admin.email, admin.password)).accessToken;
    const missing = '00000000-0000-4000-8000-000000000000';
    const someone = await a.client.register('Nobody’s member');
    expect((await call(a, 'DELETE', `/boardrooms/${missing}`, adminToken)).statusCode).toBe(404);
    const add = await call(a, 'POST', `/boardrooms/${missing}/members`, adminToken, { userId: someone.id });
    expect(add.statusCode).toBe(404);
  });

  it.each([
    ['/users?page=0', 'GET'],
    ['/users?limit=101', 'GET'],
    ['/users?page=abc', 'GET'],
    ['/users?limit=1.5', 'GET'],
    // One spelling per number: each other one would be another response-cache entry of the same page.
    ['/users?page=0x10', 'GET'],
    ['/users?page=016', 'GET'],
    ['/boardrooms?limit=1e1', 'GET'],
    // Named like an inherited property: class-transformer skips such a key, the pipe refuses it.
    ['/users?toString=x', 'GET'],
    ['/boardrooms?constructor=x', 'GET'],
    ['/users/not-a-uuid', 'GET'],
    ['/boardrooms/not-a-uuid', 'GET'],
  ])('answers 400 for %s', async (url, method) => {
    const someone = await user('Validator');
    const res = await call(a, method as 'GET', url, someone.token);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('refuses bad boardroom bodies with 400', async () => {
    const someone = await user('Builder');
    for (const body of [
      {},
      { name: '' },
      { name: 'x'.repeat(101) },
      { name: 'ok', ownerId: someone.id },
      { name: 'nul\u0000' },
      { name: 'ok', description: 'nul\u0000' },
      [{ name: 'array' }],
    ]) {
      const res = await call(a, 'POST', '/boardrooms', someone.token, body);
      expect([JSON.stringify(body), res.statusCode]).toEqual([JSON.stringify(body), 400]);
    }
    const room = (await call(a, 'POST', '/boardrooms', someone.token, { name: 'Kept' })).json();
    for (const body of [{ name: null }, { name: 'nul\u0000' }, { description: 'nul\u0000' }, { name: 7 }]) {
      const res = await call(a, 'PATCH', `/boardrooms/${room.id}`, someone.token, body);
      expect([JSON.stringify(body), res.statusCode]).toEqual([JSON.stringify(body), 400]);
    }
    expect((await call(a, 'GET', `/boardrooms/${room.id}`, someone.token)).json().name).toBe('Kept');
  });

  it('refuses null and NUL in user updates with 400 (never a 500 from a NOT NULL column)', async () => {
    const someone = await user('Nullable');
    const adminToken = (await a.client.login(admin.email, admin.password)).accessToken;
    for (const [token, body] of [
      [someone.token, { name: null }],
      [someone.token, { email: null }],
      [someone.token, { name: 'nul\u0000' }],
      [adminToken, { role: null }],
      [adminToken, { email: `${'İ'.repeat(32)}@${'İ'.repeat(60)}.${'İ'.repeat(60)}.com` }],
    ] as const) {
      const res = await call(a, 'PATCH', `/users/${someone.id}`, token, body);
      expect([JSON.stringify(body), res.statusCode]).toEqual([JSON.stringify(body), 400]);
    }
    expect((await call(a, 'GET', `/users/${someone.id}`, someone.token)).json()).toMatchObject({
      name: 'Nullable',
      role: 'user',
    });
  });

  it('runs TypeORM’s own `cache` option on the tiered cache, invalidated by writes on another instance', async () => {
    const cachedCount = async (instance: AuthInstance) =>
      (await instance.app.get(DataSource).getRepository(UserEntity).find({ cache: 60_000 })).length;
    const typeormHits = (instance: AuthInstance) => {
      const stats = instance.app.get(CacheService).stats() as Record<string, Record<string, { hits: number }>>;
      return stats.typeorm?.l1?.hits ?? 0;
    };
    const before = await cachedCount(b);
    const hits = typeormHits(b);
    expect(await cachedCount(b)).toBe(before);
    expect(typeormHits(b)).toBe(hits + 1);
    await user('Newcomer'); // registered on A
    expect(await cachedCount(b)).toBe(before + 1);
  });
});
