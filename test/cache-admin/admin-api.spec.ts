import { CacheService } from '@app/cache';
import { DataSource } from 'typeorm';
import { createClient } from 'redis';
import { apiCall, startAuthPair, type AuthInstance, type AuthPair } from '../support/auth-app';

/**
 * The cache admin API on two instances sharing Postgres and a Redis of the
 * test's own: who may call it, what its actions do on every instance, and
 * that each one is audited.
 */
describe('Cache admin API', () => {
  let pair: AuthPair;
  let a: AuthInstance;
  let b: AuthInstance;
  const admin = { email: 'cache-admin@example.com', password: 'admin-password-1' };
  let adminToken: string;
  let adminId: string;
  let user: { id: string; token: string };

  beforeAll(async () => {
    pair = await startAuthPair({
      THROTTLE_AUTH_LIMIT: '1000',
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
    });
    ({ a, b } = pair);
    const login = await a.client.login(admin.email, admin.password);
    adminToken = login.accessToken;
    adminId = (await apiCall(a, 'GET', '/auth/me', adminToken)).json().id;
    const account = await a.client.register('Plain user');
    user = { id: account.id, token: (await a.client.login(account.email, account.password)).accessToken };
  });
  afterAll(() => pair?.close());

  const routes = (): Array<[method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown]> => [
    ['GET', '/cache/health'],
    ['GET', '/cache/stats'],
    ['POST', `/cache/warm/users/${user.id}`],
    ['POST', '/cache/invalidate', { tags: ['nothing-here'] }],
    ['DELETE', `/cache/invalidate/users/${user.id}`],
    ['POST', '/cache/test'],
    ['GET', '/cache/audit'],
    ['GET', '/cache/keys'],
  ];

  it('answers 401 without a token, 403 to a user and 2xx to an admin, on both instances', async () => {
    for (const instance of [a, b]) {
      for (const [method, url, body] of routes()) {
        const none = await instance.client.request(method, `/api/v1${url}`, { body });
        const asUser = await apiCall(instance, method, url, user.token, body);
        const asAdmin = await apiCall(instance, method, url, adminToken, body);
        expect([method, url, none.statusCode, asUser.statusCode]).toEqual([method, url, 401, 403]);
        expect([method, url, asAdmin.statusCode >= 200 && asAdmin.statusCode < 300]).toEqual([method, url, true]);
      }
      // A key's detail and delete: refused before the key is looked up.
      for (const method of ['GET', 'DELETE'] as const) {
        expect((await instance.client.request(method, '/api/v1/cache/keys/default:x')).statusCode).toBe(401);
        expect((await apiCall(instance, method, '/cache/keys/default:x', user.token)).statusCode).toBe(403);
        expect((await apiCall(instance, method, '/cache/keys/default:x', adminToken)).statusCode).toBe(404);
      }
    }
  });

  it('refuses a revoked admin token with 401 on both instances', async () => {
    const revoked = (await a.client.login(admin.email, admin.password)).accessToken;
    expect((await apiCall(b, 'GET', '/cache/health', revoked)).statusCode).toBe(200);
    expect((await apiCall(a, 'POST', '/auth/logout', revoked)).statusCode).toBe(204);
    for (const instance of [a, b]) {
      for (const [method, url, body] of routes()) {
        const res = await apiCall(instance, method, url, revoked, body);
        expect([method, url, res.statusCode]).toEqual([method, url, 401]);
      }
    }
  });

  it('reports health and stats: backend, breaker, Redis, counters that move with traffic and agree with /metrics', async () => {
    const health = (await apiCall(a, 'GET', '/cache/health', adminToken)).json();
    expect(health).toMatchObject({ backend: 'auto', usingRedis: true, breaker: 'closed', redis: { connected: true } });
    expect(health.redis.latencyMs).toBeGreaterThanOrEqual(0);
    // Where Redis runs is for admins: the anonymous probes do not say.
    expect(health.redis.target).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const hitsOf = (stats: { namespaces: Record<string, { l1: { hits: number } }> }) =>
      stats.namespaces.query?.l1.hits ?? 0;
    // B: Prometheus's registry is one per process, and it shows the instance started last.
    const before = (await apiCall(b, 'GET', '/cache/stats', adminToken)).json();
    for (let i = 0; i < 5; i++) {
      await b.app.inject({
        method: 'GET',
        url: `/api/v1/users/${user.id}`,
        headers: { authorization: `Bearer ${user.token}`, 'cache-control': 'no-cache' },
      });
    }
    const after = (await apiCall(b, 'GET', '/cache/stats', adminToken)).json();
    expect(hitsOf(after)).toBeGreaterThan(hitsOf(before));
    expect(after.redis.memory.used_memory).toMatch(/^\d+$/);
    expect(after.l1.query.entries).toBeGreaterThan(0);
    expect(after.l1.query.bytes).toBeGreaterThan(0);
    expect(Array.isArray(after.slowlog)).toBe(true);
    expect(after.ai).toEqual(expect.any(Array));
    expect(after.http.outcomes).toEqual(expect.objectContaining({ HIT: expect.any(Number) }));
    const metrics = (await b.app.inject({ method: 'GET', url: '/metrics' })).body;
    const line = new RegExp(`cache_hits_total\\{namespace="query",layer="l1"\\} (\\d+)`).exec(metrics);
    expect(Number(line?.[1])).toBe(hitsOf(after));
  });

  it('invalidates a namespace, tags and keys on every instance; warms so that the next read is a hit', async () => {
    const [ca, cb] = [a, b].map((instance) => instance.app.get(CacheService).namespace('admin-check'));
    await ca.set('k1', 'v1', { tags: ['admin-tag'] });
    await ca.set('k2', 'v2');
    await ca.set('k3', 'v3');
    expect(await cb.get('k1')).toBe('v1');
    expect((await apiCall(a, 'POST', '/cache/invalidate', adminToken, { tags: ['admin-tag'] })).statusCode).toBe(200);
    expect(await cb.get('k1')).toBeUndefined();
    expect(
      (await apiCall(b, 'POST', '/cache/invalidate', adminToken, { namespace: 'admin-check', keys: ['k2'] }))
        .statusCode,
    ).toBe(200);
    expect([await ca.get('k2'), await ca.get('k3')]).toEqual([undefined, 'v3']);
    expect((await apiCall(a, 'POST', '/cache/invalidate', adminToken, { namespace: 'admin-check' })).statusCode).toBe(
      200,
    );
    expect([await ca.get('k3'), await cb.get('k3')]).toEqual([undefined, undefined]);

    // Warm on A: B's next read of the user is a query-cache hit (from L2), not a database read.
    const stats = () =>
      b.app.get(CacheService).stats().query ?? { l1: { hits: 0, misses: 0 }, l2: { hits: 0, misses: 0 } };
    expect((await apiCall(a, 'DELETE', `/cache/invalidate/users/${user.id}`, adminToken)).statusCode).toBe(204);
    expect((await apiCall(a, 'POST', `/cache/warm/users/${user.id}`, adminToken)).json()).toEqual({
      warmed: 'users',
      id: user.id,
    });
    const before = stats();
    await b.app.inject({
      method: 'GET',
      url: `/api/v1/users/${user.id}`,
      headers: { authorization: `Bearer ${user.token}`, 'cache-control': 'no-cache' },
    });
    const after = stats();
    expect(after.l1.hits + after.l2.hits).toBe(before.l1.hits + before.l2.hits + 1);
    expect(after.l2.misses).toBe(before.l2.misses);
  });

  it('warms a boardroom and a user’s conversations', async () => {
    const room = (await apiCall(a, 'POST', '/boardrooms', user.token, { name: 'Warm room' })).json();
    const conversation = (await apiCall(a, 'POST', `/boardrooms/${room.id}/conversations`, user.token, {})).json();
    const client = createClient({ url: pair.redis.url });
    await client.connect();
    try {
      await client.flushAll();
      const cv = async () => (await client.exists(`${pair.env.CACHE_PREFIX}:c:cv:${conversation.id}`)) === 1;
      expect(await cv()).toBe(false);
      const warmed = await apiCall(b, 'POST', `/cache/warm/conversations/${user.id}`, adminToken);
      expect(warmed.json()).toEqual({ warmed: 'conversations', id: user.id });
      expect(await cv()).toBe(true);
      expect((await apiCall(b, 'POST', `/cache/warm/boardrooms/${room.id}`, adminToken)).statusCode).toBe(200);
      expect((await client.keys(`${pair.env.CACHE_PREFIX}:c:query:*`)).length).toBeGreaterThan(0);
    } finally {
      await client.quit();
    }
    expect(
      (await apiCall(a, 'POST', '/cache/warm/boardrooms/00000000-0000-4000-8000-000000000000', adminToken)).statusCode,
    ).toBe(404);
  });

  it('answers 400 to bad input and 404 to unknown kinds and ids', async () => {
    for (const body of [
      {},
      { keys: 'k' },
      { tags: [''] },
      { namespace: 'a b' },
      { tags: ['x\u0000'] },
      { keys: Array(101).fill('k') },
    ]) {
      expect([body, (await apiCall(a, 'POST', '/cache/invalidate', adminToken, body)).statusCode]).toEqual([body, 400]);
    }
    expect((await apiCall(a, 'POST', `/cache/warm/planets/${user.id}`, adminToken)).statusCode).toBe(404);
    expect(
      (await apiCall(a, 'POST', '/cache/warm/users/00000000-0000-4000-8000-000000000000', adminToken)).statusCode,
    ).toBe(404);
    expect((await apiCall(a, 'POST', '/cache/warm/users/not-a-uuid', adminToken)).statusCode).toBe(400);
    expect((await apiCall(a, 'GET', '/cache/audit?limit=1000', adminToken)).statusCode).toBe(400);
  });

  it('refuses control characters in a key or a warm kind with 400, before anything is audited', async () => {
    const total = async () => (await apiCall(a, 'GET', '/cache/audit?limit=1', adminToken)).json().total;
    const before = await total();
    for (const text of ['a%00b', 'a%01b', 'a%7Fb', 'a%C2%85b', 'a%0Ab']) {
      // Before: the delete's audit insert failed in Postgres on the NUL (500), and the warm's 404 left its entry pending.
      for (const [method, url] of [
        ['GET', `/cache/keys/http:${text}`],
        ['DELETE', `/cache/keys/http:${text}`],
        ['POST', `/cache/warm/${text}/${user.id}`],
      ] as const) {
        const res = await apiCall(a, method, url, adminToken);
        expect([method, url, res.statusCode, res.json().message]).toEqual([
          method,
          url,
          400,
          expect.stringMatching(/^(key|kind) must not contain control characters$/),
        ]);
      }
    }
    expect(await total()).toBe(before);
  });

  it('audits an invalidation of the most keys and tags the route takes whole, not its first 500 characters', async () => {
    // 500 and 200 UTF-16 units each; quotes and backslashes double in JSON.
    const keys = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}:${'"\\😀'.repeat(124)}`);
    const tags = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}-${'t'.repeat(196)}`);
    const res = await apiCall(a, 'POST', '/cache/invalidate', adminToken, { namespace: 'wide', keys, tags });
    expect(res.json()).toEqual({ invalidated: { namespace: 'wide', keys: 100, tags: 100 } });
    const [listed] = (await apiCall(a, 'GET', '/cache/audit?limit=1', adminToken)).json().items;
    expect(listed).toMatchObject({ action: 'invalidate', outcome: 'ok', targetTruncated: true });
    const entry = (await apiCall(a, 'GET', `/cache/audit/${listed.id}`, adminToken)).json();
    expect(entry.target.length).toBeGreaterThan(90_000);
    expect(JSON.parse(entry.target)).toEqual({ namespace: 'wide', keys, tags });
    // The page shows its first 997 code points and `...` (the emoji are pairs of UTF-16 units).
    expect(Array.from(listed.target)).toEqual([...Array.from(entry.target).slice(0, 997), '.', '.', '.']);
  });

  it('lists targets cut at 1,000 characters, as Postgres counts them, and answers an unknown entry 404', async () => {
    // Targets of 1,000 code points and of 1,001, 456 of them in pairs of UTF-16 units: cut only when over 1,000.
    for (const [padding, cut] of [
      [225, false],
      [226, true],
    ] as const) {
      const body = { namespace: 'cut', keys: ['a'.repeat(500), '😀'.repeat(228), 'b'.repeat(padding)], tags: [] };
      expect(Array.from(JSON.stringify(body))).toHaveLength(cut ? 1001 : 1000);
      expect((await apiCall(a, 'POST', '/cache/invalidate', adminToken, body)).statusCode).toBe(200);
      const [listed] = (await apiCall(a, 'GET', '/cache/audit?limit=1', adminToken)).json().items;
      const whole = (await apiCall(a, 'GET', `/cache/audit/${listed.id}`, adminToken)).json().target;
      expect([whole, listed.targetTruncated]).toEqual([JSON.stringify(body), cut]);
      expect(listed.target).toBe(cut ? `${Array.from(whole).slice(0, 997).join('')}...` : whole);
    }
    const missing = await apiCall(a, 'GET', '/cache/audit/00000000-0000-4000-8000-000000000000', adminToken);
    expect([missing.statusCode, missing.json().message]).toEqual([404, 'No audit entry with this id']);
    expect((await apiCall(a, 'GET', '/cache/audit/not-a-uuid', adminToken)).statusCode).toBe(400);
  });

  it('runs a write-read-delete round trip through both tiers with each step timed', async () => {
    const res = (await apiCall(b, 'POST', '/cache/test', adminToken)).json();
    expect(res.ok).toBe(true);
    expect(res.steps.map((s: { step: string }) => s.step)).toEqual([
      'write (L1 and L2)',
      'read (L1)',
      'read (L2, the Redis key itself)',
      'delete',
      'read after delete (a miss)',
    ]);
    for (const step of res.steps) expect(step.ms).toBeGreaterThanOrEqual(0);
  });

  it('runs no action whose audit entry cannot be written (the entry is written first)', async () => {
    await a.app.get(CacheService).namespace('audit-probe').set('k', 'kept');
    const db = a.app.get(DataSource);
    // The audit table out of the way: its insert fails as it would with Postgres gone.
    await db.query('ALTER TABLE cache_audit RENAME TO cache_audit_away');
    let status: number;
    try {
      status = (await apiCall(a, 'POST', '/cache/invalidate', adminToken, { namespace: 'audit-probe' })).statusCode;
    } finally {
      await db.query('ALTER TABLE cache_audit_away RENAME TO cache_audit');
    }
    expect(status).toBeGreaterThanOrEqual(500);
    // Before, the namespace was cleared on every instance and the call still failed, with no entry.
    expect(await a.app.get(CacheService).namespace('audit-probe').get('k')).toBe('kept');
    expect(await b.app.get(CacheService).namespace('audit-probe').get('k')).toBe('kept');
  });

  it('refuses a SCAN cursor Redis would refuse with 400, and the cache stays healthy', async () => {
    for (const cursor of ['18446744073709551616', '99999999999999999999', '9999999999999999999999']) {
      expect((await apiCall(a, 'GET', `/cache/keys?cursor=${cursor}`, adminToken)).statusCode).toBe(400);
    }
    expect((await apiCall(a, 'GET', '/cache/keys?cursor=18446744073709551615', adminToken)).statusCode).toBe(200);
    expect(a.app.get(CacheService).status().breaker).toBe('closed');
  });

  it('audits every action with the admin’s id and its outcome, newest first', async () => {
    await apiCall(a, 'POST', '/cache/invalidate', adminToken, { tags: ['audited-tag'] });
    await apiCall(a, 'POST', '/cache/warm/users/00000000-0000-4000-8000-000000000000', adminToken);
    const page = (await apiCall(b, 'GET', '/cache/audit?limit=5', adminToken)).json();
    expect(page.items[0]).toMatchObject({
      actorId: adminId,
      action: 'warm.users',
      target: '00000000-0000-4000-8000-000000000000',
      outcome: 'not_found',
    });
    expect(page.items[1]).toMatchObject({ actorId: adminId, action: 'invalidate', outcome: 'ok' });
    expect(page.items[1].target).toContain('audited-tag');
    const actions = new Set<string>();
    for (let p = 1; p <= 10; p++) {
      const items = (await apiCall(a, 'GET', `/cache/audit?page=${p}&limit=100`, adminToken)).json().items;
      for (const item of items) actions.add(item.action);
      if (items.length < 100) break;
    }
    expect([...actions].sort()).toEqual([
      'invalidate',
      'invalidate.user',
      'key.delete',
      'test',
      'warm.boardrooms',
      'warm.conversations',
      // A kind nothing warms is audited too (a 404, `not_found`).
      'warm.planets',
      'warm.users',
    ]);
    // Reads are not audited.
    expect(page.total).toBeGreaterThan(0);
  });
});
