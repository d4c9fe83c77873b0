import { UsersService } from '../../apps/api/src/users/users.service';
import { startAuthPair, type AuthInstance, type AuthPair } from '../support/auth-app';

/**
 * The HTTP response cache over the API of two instances sharing Postgres and
 * Redis: MISS then HIT with one ETag, 304s, HEAD, per-user isolation, and
 * invalidation by the reads a response was built from, on both instances,
 * without a tag written on any route.
 */
describe('HTTP response cache (two instances)', () => {
  let pair: AuthPair;
  let a: AuthInstance;
  let b: AuthInstance;
  const admin = { email: 'admin@example.com', password: 'admin-password-1' };

  beforeAll(async () => {
    pair = await startAuthPair({
      THROTTLE_AUTH_LIMIT: '1000',
      THROTTLE_LIMIT: '0',
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
  const get = (instance: AuthInstance, url: string, token: string, headers: Record<string, string> = {}) =>
    instance.app.inject({
      method: 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
  const call = (
    instance: AuthInstance,
    method: 'POST' | 'PATCH' | 'DELETE',
    url: string,
    token: string,
    body?: unknown,
  ) => instance.client.request(method, `/api/v1${url}`, { token, body });
  /** A GET answered from a stored response, on every instance given, with the same bytes. */
  async function expectHit(url: string, token: string, ...instances: AuthInstance[]) {
    for (const instance of instances) {
      const res = await get(instance, url, token);
      expect([res.statusCode, res.headers['x-cache']]).toEqual([200, 'HIT']);
    }
  }

  it('answers MISS then HIT with the same body and ETag on both instances, 304 on If-None-Match, HEAD from the entry', async () => {
    const alice = await user('Alice');
    const first = await get(a, `/users/${alice.id}`, alice.token);
    expect([first.statusCode, first.headers['x-cache'], first.headers.age]).toEqual([200, 'MISS', '0']);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(first.headers['cache-control']).toBe('no-cache');

    for (const instance of [a, b]) {
      const hit = await get(instance, `/users/${alice.id}`, alice.token);
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.body).toBe(first.body);
      expect(hit.headers.etag).toBe(etag);
      expect(hit.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(hit.headers['x-content-type-options']).toBe('nosniff'); // the pipeline's headers still apply

      const revalidated = await get(instance, `/users/${alice.id}`, alice.token, { 'if-none-match': `"x", W/${etag}` });
      expect(revalidated.statusCode).toBe(304);
      expect(revalidated.body).toBe('');
      expect(revalidated.headers.etag).toBe(etag);

      const head = await instance.app.inject({
        method: 'HEAD',
        url: `/api/v1/users/${alice.id}`,
        headers: { authorization: `Bearer ${alice.token}` },
      });
      expect([head.statusCode, head.headers['x-cache'], head.headers.etag, head.body]).toEqual([200, 'HIT', etag, '']);
      expect(head.headers['content-length']).toBe(String(first.rawPayload.length));
    }

    // The id in capitals is the same user, and the same entry (the route reads it in lower case).
    const shouted = await get(a, `/users/${alice.id.toUpperCase()}`, alice.token);
    expect([shouted.headers['x-cache'], shouted.headers.etag]).toEqual(['HIT', etag]);

    // Writes that end where they began: a fresh response (MISS) with the same bytes, so the same ETag and a 304.
    expect((await call(a, 'PATCH', `/users/${alice.id}`, alice.token, { name: 'Alicia' })).statusCode).toBe(200);
    expect((await call(a, 'PATCH', `/users/${alice.id}`, alice.token, { name: 'Alice' })).statusCode).toBe(200);
    const unchanged = await get(b, `/users/${alice.id}`, alice.token, { 'if-none-match': etag });
    expect([unchanged.statusCode, unchanged.headers['x-cache']]).toEqual([304, 'MISS']);

    // Prometheus (one registry per process: it shows the instance started last, b).
    const metrics = (await b.app.inject({ method: 'GET', url: '/metrics' })).body;
    const sample = (line: RegExp) => Number(metrics.match(line)?.[1] ?? NaN);
    expect(sample(/^http_cache_responses_total\{outcome="HIT"\} (\d+)$/m)).toBeGreaterThanOrEqual(3);
    expect(sample(/^http_cache_not_modified_total (\d+)$/m)).toBeGreaterThanOrEqual(2);
    expect(sample(/^http_cache_served_bytes_total (\d+)$/m)).toBeGreaterThanOrEqual(first.rawPayload.length);
    expect(sample(/^cache_hits_total\{namespace="http",layer="l2"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
  });

  it('never gives one user’s /auth/me or /boardrooms to another', async () => {
    const alice = await user('Alice');
    const bob = await user('Bob');
    await call(a, 'POST', '/boardrooms', alice.token, { name: 'Alice only' });
    for (const url of ['/auth/me', '/boardrooms']) {
      const mine = await get(a, url, alice.token);
      expect(mine.headers['cache-control']).toBe('private, no-cache');
      expect(mine.headers.vary).toContain('Authorization');
      await expectHit(url, alice.token, a, b);
      for (const instance of [a, b]) {
        const theirs = await get(instance, url, bob.token);
        expect(theirs.statusCode).toBe(200);
        expect(theirs.body).not.toBe(mine.body);
      }
    }
    expect((await get(b, '/auth/me', bob.token)).json()).toMatchObject({ id: bob.id, name: 'Bob' });
    expect((await get(b, '/boardrooms', bob.token)).json().items).toEqual([]);
  });

  it('gives a removed member 404 on both instances although the boardroom was cached for them', async () => {
    const owner = await user('Owner');
    const member = await user('Member');
    const room = (await call(a, 'POST', '/boardrooms', owner.token, { name: 'Board' })).json();
    expect(
      (await call(a, 'POST', `/boardrooms/${room.id}/members`, owner.token, { userId: member.id })).statusCode,
    ).toBe(201);
    for (const instance of [a, b]) await get(instance, `/boardrooms/${room.id}`, member.token);
    await expectHit(`/boardrooms/${room.id}`, member.token, a, b);
    await get(b, '/boardrooms', member.token);
    await expectHit('/boardrooms', member.token, b);

    expect((await call(a, 'DELETE', `/boardrooms/${room.id}/members/${member.id}`, owner.token)).statusCode).toBe(204);
    for (const instance of [a, b]) {
      expect((await get(instance, `/boardrooms/${room.id}`, member.token)).statusCode).toBe(404);
    }
    expect((await get(b, '/boardrooms', member.token)).json().items).toEqual([]);
  });

  it('shows a user’s change on the other instance in every cached response that showed them', async () => {
    const owner = await user('Owner');
    const member = await user('Before');
    const room = (await call(a, 'POST', '/boardrooms', owner.token, { name: 'Room' })).json();
    await call(a, 'POST', `/boardrooms/${room.id}/members`, owner.token, { userId: member.id });
    const views = [`/users/${member.id}`, '/users?limit=100', `/boardrooms/${room.id}`];
    for (const url of views) await get(b, url, owner.token);
    await get(b, '/auth/me', member.token);
    for (const url of views) await expectHit(url, owner.token, b);

    expect((await call(a, 'PATCH', `/users/${member.id}`, member.token, { name: 'After' })).statusCode).toBe(200);
    const one = await get(b, `/users/${member.id}`, owner.token);
    expect([one.headers['x-cache'], one.json().name]).toEqual(['MISS', 'After']);
    const list = (await get(b, '/users?limit=100', owner.token)).json();
    expect(list.items.find((u: { id: string }) => u.id === member.id).name).toBe('After');
    const members = (await get(b, `/boardrooms/${room.id}`, owner.token)).json().members;
    expect(members.find((m: { userId: string }) => m.userId === member.id).name).toBe('After');
    expect((await get(b, '/auth/me', member.token)).json().name).toBe('After');
  });

  it('drops a deleted user from every cached boardroom response on the other instance', async () => {
    const owner = await user('Owner');
    const member = await user('Leaving');
    const room = (await call(a, 'POST', '/boardrooms', owner.token, { name: 'Room' })).json();
    await call(a, 'POST', `/boardrooms/${room.id}/members`, owner.token, { userId: member.id });
    await get(b, `/boardrooms/${room.id}`, owner.token);
    await get(b, `/users/${member.id}`, owner.token);
    await expectHit(`/boardrooms/${room.id}`, owner.token, b);

    const adminToken = (await a.client.login(admin.email, admin.password)).accessToken;
    expect((await call(a, 'DELETE', `/users/${member.id}`, adminToken)).statusCode).toBe(204);
    const after = (await get(b, `/boardrooms/${room.id}`, owner.token)).json();
    expect(after.members.map((m: { userId: string }) => m.userId)).toEqual([owner.id]);
    expect((await get(b, `/users/${member.id}`, owner.token)).statusCode).toBe(404);
  });

  it('does not keep a response built from a read that a commit made old (the commit race, forced)', async () => {
    const reader = await user('Old name');
    const url = `/users/${reader.id}`;
    // The query cache holds the row; the response cache does not (no-store is not stored).
    expect((await get(b, url, reader.token, { 'cache-control': 'no-store' })).headers['x-cache']).toBe('BYPASS');

    // B's handler reads the (cached) old row, then waits before its response is stored.
    const service = b.app.get(UsersService);
    const original = service.get.bind(service);
    let read!: () => void;
    let release!: () => void;
    const hasRead = new Promise<void>((resolve) => (read = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const spy = jest.spyOn(service, 'get').mockImplementationOnce(async (id: string) => {
      const value = await original(id);
      read();
      await released;
      return value;
    });
    try {
      const slow = get(b, url, reader.token);
      await hasRead;
      // The write commits and invalidates (on every instance) while B holds the old row.
      expect((await call(a, 'PATCH', url, reader.token, { name: 'New name' })).statusCode).toBe(200);
      release();
      const late = await slow;
      expect([late.headers['x-cache'], late.json().name]).toEqual(['MISS', 'Old name']);
    } finally {
      spy.mockRestore();
    }
    for (const instance of [b, a]) expect((await get(instance, url, reader.token)).json().name).toBe('New name');
  });

  it('does not store an error or a no-store request, and runs the handler once per instance for 1,000 cold requests', async () => {
    const caller = await user('Caller');
    const missing = `/users/00000000-0000-4000-8000-000000000000`;
    for (let i = 0; i < 2; i++) {
      const res = await get(a, missing, caller.token);
      expect(res.statusCode).toBe(404);
      expect(res.headers['x-cache']).toBeUndefined();
    }
    // A query the route does not read shares the entry; a list's unknown parameter stays a 400.
    await get(a, `/users/${caller.id}`, caller.token);
    expect((await get(a, `/users/${caller.id}?junk=${Math.random()}`, caller.token)).headers['x-cache']).toBe('HIT');
    await get(a, '/users', caller.token);
    for (let i = 0; i < 2; i++) expect((await get(a, '/users?junk=1', caller.token)).statusCode).toBe(400);

    const target = await user('Target');
    const url = `/users/${target.id}`;
    expect((await get(a, url, caller.token, { 'cache-control': 'no-store' })).headers['x-cache']).toBe('BYPASS');

    const spies = [a, b].map((instance) => jest.spyOn(instance.app.get(UsersService), 'get'));
    try {
      const responses = await Promise.all(
        [a, b].flatMap((instance) => Array.from({ length: 1_000 }, () => get(instance, url, caller.token))),
      );
      expect(responses.every((r) => r.statusCode === 200)).toBe(true);
      expect(spies.map((s) => s.mock.calls.length)).toEqual([1, 1]);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});
