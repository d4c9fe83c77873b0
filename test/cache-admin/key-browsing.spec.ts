import { CacheService } from '@app/cache';
import { createClient } from 'redis';
import { waitFor } from '../support/free-port';
import { apiCall, startAuthInstance, startAuthPair, type AuthInstance, type AuthPair } from '../support/auth-app';
import { uniquePrefix } from '../support/cache-instance';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

type Page = { cursor: string; keys: Array<{ key: string; namespace: string }> };

/**
 * Key browsing in the admin API: `SCAN` paging inside the app's prefix only,
 * whatever the client's `match`, with a key's detail and delete.
 */
describe('Cache admin key browsing', () => {
  let pair: AuthPair;
  let a: AuthInstance;
  let b: AuthInstance;
  let token: string;
  let raw: ReturnType<typeof createClient>;
  const admin = { email: 'keys-admin@example.com', password: 'admin-password-1' };
  const foreign = ['other:c:ns:secret', 'unrelated', 'x*', 'a?b', '[x]', 'back\\slash', '{tag}', '..'];

  beforeAll(async () => {
    pair = await startAuthPair({
      THROTTLE_AUTH_LIMIT: '1000',
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
    });
    ({ a, b } = pair);
    token = (await a.client.login(admin.email, admin.password)).accessToken;
    raw = createClient({ url: pair.redis.url });
    await raw.connect();
    // Keys the admin API must never reach: other apps' keys, and this app's keys outside its entries.
    const prefix = pair.env.CACHE_PREFIX;
    for (const key of [...foreign, `${prefix}x:c:ns:near`, `${prefix}:t:not-an-entry`, `${prefix}:lk:{lock}`])
      await raw.set(key, 'foreign');
  });
  afterAll(async () => {
    await raw?.quit();
    await pair?.close();
  });

  async function scanAll(
    instance: AuthInstance,
    match: string,
    count = 50,
    between?: () => Promise<void>,
  ): Promise<string[]> {
    const seen: string[] = [];
    let cursor = '0';
    do {
      const res = await apiCall(
        instance,
        'GET',
        `/cache/keys?match=${encodeURIComponent(match)}&cursor=${cursor}&count=${count}`,
        token,
      );
      expect(res.statusCode).toBe(200);
      const page = res.json<Page>();
      seen.push(...page.keys.map((k) => k.key));
      cursor = page.cursor;
      await between?.();
    } while (cursor !== '0');
    return seen;
  }

  it('pages through every entry exactly once while keys are being added', async () => {
    const ns = a.app.get(CacheService).namespace('browse');
    const original = Array.from({ length: 300 }, (_, i) => `k${i}`);
    for (const key of original) await ns.set(key, { key });
    let added = 0;
    const seen = await scanAll(a, 'browse:', 20, async () => {
      for (let i = 0; i < 10; i++) await ns.set(`late${added++}`, 1);
    });
    expect(added).toBeGreaterThan(0);
    const originals = seen.filter((key) => /^browse:k\d+$/.test(key));
    expect(originals.sort()).toEqual(original.map((key) => `browse:${key}`).sort());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it.each(['', '*', '?', '[', ']', '\\', '{', '..', '*:*', 'c:*', '\\*', '[a-z]*'])(
    'never lists a key outside the entries for match %j',
    async (match) => {
      const seen = await scanAll(b, match, 200);
      if (match === '') expect(seen.length).toBeGreaterThanOrEqual(300);
      for (const key of seen) {
        expect(key).toMatch(/^[A-Za-z0-9_.-]+:/);
        expect(foreign).not.toContain(key);
        expect(key).not.toContain('not-an-entry');
        expect(key).not.toContain('near');
      }
      // The match is literal text: only keys that contain it.
      for (const key of seen) expect(key.includes(match)).toBe(true);
    },
  );

  it('shows an entry’s namespace, TTL, tags, value and layers, and deletes it everywhere', async () => {
    const [ca, cb] = [a, b].map((instance) => instance.app.get(CacheService).namespace('detail'));
    await ca.set('item', { name: '<script>alert(1)</script>' }, { ttl: 60_000, tags: ['detail-tag'] });
    expect(await cb.get('item')).toEqual({ name: '<script>alert(1)</script>' });
    const detail = (await apiCall(a, 'GET', '/cache/keys/detail:item', token)).json();
    expect(detail).toMatchObject({ key: 'detail:item', namespace: 'detail', l2: { state: 'entry' } });
    expect(detail.l2.ttlMs).toBeGreaterThan(0);
    expect(detail.l2.ttlMs).toBeLessThanOrEqual(60_000 + 600_000);
    expect(detail.l2.tags).toEqual(expect.arrayContaining(['detail-tag']));
    expect(detail.l2.value.text).toContain('<script>alert(1)</script>');
    expect(detail.l1.tags).toEqual(expect.arrayContaining(['detail-tag']));
    expect(detail.l1.value).toEqual({ text: JSON.stringify({ name: '<script>alert(1)</script>' }), truncated: false });

    expect((await apiCall(b, 'DELETE', '/cache/keys/detail:item', token)).statusCode).toBe(204);
    expect([await ca.get('item'), await cb.get('item')]).toEqual([undefined, undefined]);
    expect((await apiCall(a, 'GET', '/cache/keys/detail:item', token)).statusCode).toBe(404);
    expect((await apiCall(a, 'DELETE', '/cache/keys/detail:item', token)).statusCode).toBe(404);
    const audit = (await apiCall(a, 'GET', '/cache/audit?limit=2', token)).json().items;
    expect(audit.map((e: { action: string; outcome: string }) => [e.action, e.outcome])).toEqual([
      ['key.delete', 'not_found'],
      ['key.delete', 'ok'],
    ]);
  });

  it('shows and deletes a key of another Redis type under the entries’ prefix as foreign (it was a 500)', async () => {
    const full = a.app.get(CacheService).redisKey('typed', 'list');
    await raw.rPush(full, ['not', 'an', 'entry']);
    const detail = await apiCall(a, 'GET', '/cache/keys/typed:list', token);
    expect([detail.statusCode, detail.json().l2]).toEqual([200, { state: 'foreign', ttlMs: -1 }]);
    // The delete leaves the cache's tombstone in its place, as for any entry.
    expect((await apiCall(a, 'DELETE', '/cache/keys/typed:list', token)).statusCode).toBe(204);
    expect(await raw.type(full)).toBe('string');
    expect((await apiCall(a, 'GET', '/cache/keys/typed:list', token)).statusCode).toBe(404);
  });

  it('answers 404 for unknown keys and keys outside the entries, and 400 for a bad cursor or count', async () => {
    for (const key of ['nothing:here', 'no-colon', '..%2F..%2Fother', encodeURIComponent('*')]) {
      expect([key, (await apiCall(a, 'GET', `/cache/keys/${key}`, token)).statusCode]).toEqual([key, 404]);
    }
    expect(await raw.get('other:c:ns:secret')).toBe('foreign');
    for (const query of ['cursor=abc', 'cursor=-1', 'count=0', 'count=5000', `match=${'x'.repeat(201)}`]) {
      expect([query, (await apiCall(a, 'GET', `/cache/keys?${query}`, token)).statusCode]).toEqual([query, 400]);
    }
    for (const key of foreign) expect(await raw.get(key)).toBe('foreign');
  });
});

/**
 * Key browsing while Redis cannot be asked: stalled (SIGSTOP) before the
 * breaker opens, and with the breaker open. Background Redis traffic is
 * turned down (no sampler, slow rate-limit sync and revocation poll) so that
 * only the calls under test count towards the breaker.
 */
describe('Cache admin key browsing with Redis unavailable', () => {
  let pair: AuthPair;
  let token: string;
  const admin = { email: 'stalled-admin@example.com', password: 'admin-password-1' };
  const breakerOf = (instance: AuthInstance) => instance.app.get(CacheService).status().breaker;

  beforeAll(async () => {
    pair = await startAuthPair({
      THROTTLE_AUTH_LIMIT: '1000',
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      CACHE_ADMIN_SAMPLE_MS: '0',
      THROTTLE_SYNC_MS: '60000',
      AUTH_REVOCATION_POLL_MS: '60000',
    });
    token = (await pair.a.client.login(admin.email, admin.password)).accessToken;
  });
  afterAll(async () => {
    pair?.redis.resume();
    await pair?.close();
  });

  /** Resumes Redis and waits until both instances use it again. */
  async function resume() {
    pair.redis.resume();
    await waitFor(() => breakerOf(pair.a) === 'closed' && breakerOf(pair.b) === 'closed', 10_000, 'breakers closed');
  }

  it('answers 503, not 500, when Redis stalls before the breaker opens', async () => {
    const { a, redis } = pair;
    for (const url of ['/cache/keys?match=x', '/cache/keys/stalled:k']) {
      redis.pause();
      let answer;
      try {
        const res = await apiCall(a, 'GET', url, token);
        // One deadline missed: the breaker (3 in a row) is still closed, so this is not its CacheUnavailableError.
        answer = [url, res.statusCode, res.json().message, breakerOf(a)];
      } finally {
        await resume();
      }
      expect(answer).toEqual([url, 503, expect.stringMatching(/^Redis is unavailable\b/), 'closed']);
      // A good call resets the failure count before the next.
      expect((await apiCall(a, 'GET', '/cache/keys', token)).statusCode).toBe(200);
    }
  });

  it('answers 503 for a key only Redis could tell of while the breaker is open, deletes nothing and audits why', async () => {
    const { a, b, redis } = pair;
    // In Redis (and A's L1), not in B's L1; and one B's L1 holds.
    await a.app.get(CacheService).namespace('held').set('remote', { v: 1 });
    await b.app.get(CacheService).namespace('held').set('local', { v: 2 });
    redis.pause();
    let answers;
    try {
      b.app.get(CacheService).engine.parts.remote.breaker.trip();
      const shown = await apiCall(b, 'GET', '/cache/keys/held:remote', token);
      const deleted = await apiCall(b, 'DELETE', '/cache/keys/held:remote', token);
      const local = await apiCall(b, 'GET', '/cache/keys/held:local', token);
      answers = [shown, deleted, local].map((res) => [res.statusCode, res.json()?.message ?? res.json()?.l2]);
      expect(local.json().l1.value.text).toBe(JSON.stringify({ v: 2 }));
    } finally {
      await resume();
    }
    // Before: 404 "No such key" twice, and the delete audited as not_found while the key stayed in Redis.
    expect(answers).toEqual([
      [503, 'Redis is unavailable (cache breaker open)'],
      [503, 'Redis is unavailable (cache breaker open)'],
      [200, { state: 'unavailable', reason: 'cache breaker open' }],
    ]);
    const [entry] = (await apiCall(a, 'GET', '/cache/audit?limit=1', token)).json().items;
    expect(entry).toMatchObject({
      action: 'key.delete',
      target: 'held:remote',
      outcome: 'error',
      detail: 'Redis is unavailable (cache breaker open)',
    });
    const after = await apiCall(b, 'GET', '/cache/keys/held:remote', token);
    expect([after.statusCode, after.json().l2.state]).toEqual([200, 'entry']);
  });
});

/** Without Redis (no REDIS_URL) key detail and delete answer from L1 alone: absent there is absent. */
describe('Cache admin key browsing without Redis', () => {
  let db: TestDatabase;
  let instance: AuthInstance;
  let token: string;
  const admin = { email: 'memory-admin@example.com', password: 'admin-password-1' };

  beforeAll(async () => {
    db = await createTestDatabase();
    instance = await startAuthInstance({
      DATABASE_URL: db.url,
      THROTTLE_AUTH_LIMIT: '1000',
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      CACHE_PREFIX: uniquePrefix(),
    });
    token = (await instance.client.login(admin.email, admin.password)).accessToken;
  });
  afterAll(async () => {
    await instance?.app.close();
    await db?.drop();
  });

  it('shows and deletes an L1 entry, answers 404 for an unknown key and 503 for a SCAN', async () => {
    await instance.app.get(CacheService).namespace('mem').set('k', { v: 1 });
    const shown = await apiCall(instance, 'GET', '/cache/keys/mem:k', token);
    expect([shown.statusCode, shown.json().l2, shown.json().l1.value.text]).toEqual([200, null, '{"v":1}']);
    expect((await apiCall(instance, 'DELETE', '/cache/keys/mem:k', token)).statusCode).toBe(204);
    expect(await instance.app.get(CacheService).namespace('mem').get('k')).toBeUndefined();
    for (const method of ['GET', 'DELETE'] as const)
      expect((await apiCall(instance, method, '/cache/keys/mem:k', token)).statusCode).toBe(404);
    const audit = (await apiCall(instance, 'GET', '/cache/audit?limit=2', token)).json().items;
    expect(audit.map((e: { outcome: string }) => e.outcome)).toEqual(['not_found', 'ok']);
    expect((await apiCall(instance, 'GET', '/cache/keys', token)).statusCode).toBe(503);
  });
});
