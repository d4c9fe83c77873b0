import { createClient } from '@redis/client';
import {
  commandCalls,
  createCacheInstance,
  startCacheCluster,
  uniquePrefix,
  type CacheCluster,
  type CacheInstance,
} from '../support/cache-instance';
import { waitFor } from '../support/free-port';
import { TestRedisServer } from '../support/redis-server';

describe('tiered cache: L1 and L2 on one Redis', () => {
  let cluster: CacheCluster;
  let server: TestRedisServer;
  let a: CacheInstance;
  let b: CacheInstance;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    cluster = await startCacheCluster(2, { prefix });
    server = cluster.server;
    [a, b] = cluster.instances;
  });

  afterAll(() => cluster?.close());

  it('serves an L1 hit without sending any command to Redis', async () => {
    const users = a.cache.namespace('users');
    await users.set('u1', { name: 'Ada' });
    expect(await users.get('u1')).toEqual({ name: 'Ada' });
    const before = await commandCalls(a.redis);
    for (let i = 0; i < 1_000; i++) await users.get('u1');
    for (let i = 0; i < 100; i++) await users.getOrSet('u1', () => ({ name: 'never loaded' }));
    const after = await commandCalls(a.redis);
    // The only new command is the INFO that read the counters.
    const changed = Object.keys(after).filter((cmd) => after[cmd] !== before[cmd]);
    expect(changed).toEqual(['info']);
  });

  it('reads on B what A set, from L2, with the TTL A gave it', async () => {
    await a.cache.namespace('ttl').set('k', 'v', { ttl: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await b.cache.namespace('ttl').get('k')).toBe('v');
    expect(b.cache.stats().ttl.l2.hits).toBe(1);
    const pttl = await a.redis.run((c) => c.pTTL(a.cache.redisKey('ttl', 'k')));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(9_700);
  });

  it("keeps B's L1 copy of an L2 hit apart from the value the hit returned, and serves it from L1 next", async () => {
    const stored = { name: 'Ada', seen: [new Date(7)] };
    await a.cache.namespace('copies').set('k', stored);
    const fromL2 = await b.cache.namespace('copies').get<typeof stored>('k');
    expect(fromL2).toEqual(stored);
    // A caller changing what it got does not change the cache (the L1 copy is decoded on its first hit).
    fromL2!.name = 'changed by a caller';
    const before = await commandCalls(b.redis);
    const fromL1 = await b.cache.namespace('copies').get<typeof stored>('k');
    expect(fromL1).toEqual(stored);
    expect(fromL1!.seen[0]).toBeInstanceOf(Date);
    expect(await b.cache.namespace('copies').get('k')).toBe(fromL1);
    const after = await commandCalls(b.redis);
    expect(Object.keys(after).filter((cmd) => after[cmd] !== before[cmd])).toEqual(['info']);
    expect(b.cache.stats().copies).toMatchObject({ l1: { hits: 2 }, l2: { hits: 1 } });
  });

  it('keeps the breaker closed when Redis refuses calls (an error reply comes at once: nothing waited)', async () => {
    const ns = a.cache.namespace('refused');
    // Another type at the entries' keys: the read and write scripts get WRONGTYPE.
    for (let i = 0; i < 5; i++) await a.redis.run((c) => c.rPush(a.cache.redisKey('refused', `k${i}`), 'x'));
    for (let i = 0; i < 5; i++) {
      expect(await ns.getOrSet(`k${i}`, () => `loaded ${i}`)).toBe(`loaded ${i}`);
      expect(await ns.get(`k${i}`)).not.toBe('x');
    }
    expect(a.cache.stats().refused.l2.errors).toBeGreaterThanOrEqual(3);
    expect(a.cache.status().breaker).toBe('closed');
  });

  it('replays an invalidation Redis refused (OOM), and B drops its copy once Redis takes writes again', async () => {
    await a.cache.namespace('full').set('k', 'before', { tags: ['full-tag'] });
    expect(await b.cache.namespace('full').get('k')).toBe('before');
    const config = (value: string) => a.redis.run((c) => c.configSet({ maxmemory: value }));
    await a.redis.run((c) => c.configSet({ 'maxmemory-policy': 'noeviction' }));
    await config('1');
    try {
      // Redis answers the invalidation's writes with an error (OOM): L2 still holds the entry.
      await a.cache.invalidateTags(['full-tag']);
      // A's breaker opens (it must not read what it just failed to invalidate); its probe replays.
      expect(a.cache.status().breaker).toBe('open');
      expect(await a.cache.namespace('full').get('k')).toBeUndefined();
    } finally {
      await config('0');
    }
    await waitFor(async () => (await b.cache.namespace('full').get('k')) === undefined, 5_000, 'B to drop its copy');
    await waitFor(() => a.cache.status().breaker === 'closed', 5_000, "A's breaker to close");
    expect(await a.cache.namespace('full').get('k')).toBeUndefined();
  });

  it("expires B's L1 copy with the L2 entry (its remaining TTL), not a full TTL after B read it", async () => {
    // TTL T; B reads at about T/2. The right expiry of B's copy is T after the
    // write; a full TTL would keep it until (T/2 + T × 0.9, with jitter). B is
    // asked again at T + 1 s, when only a full-TTL copy would still answer.
    const ttl = 6_000;
    const ns = () => b.cache.namespace('remaining');
    const loads = { n: 0 };
    const reload = () => (loads.n++, 'reloaded');
    const written = Date.now();
    await a.cache.namespace('remaining').set('k', 'v', { ttl });
    await new Promise((r) => setTimeout(r, ttl / 2));
    expect(await ns().getOrSet('k', reload)).toBe('v');
    const readAt = Date.now();
    expect(b.cache.stats().remaining.l2.hits).toBe(1); // from L2, copied into B's L1
    expect(await ns().getOrSet('k', reload)).toBe('v');
    expect(b.cache.stats().remaining.l1.hits).toBe(1); // B's L1 now holds it
    await new Promise((r) => setTimeout(r, written + ttl + 1_000 - Date.now()));
    // Only meaningful while a full-TTL copy would still be fresh: fail loudly if the machine stalled past that.
    expect(Date.now() - readAt).toBeLessThan(ttl * 0.9);
    expect(await ns().getOrSet('k', reload)).toBe('reloaded');
    expect(loads.n).toBe(1);
  });

  it('makes a delete on A a miss on B at once, L1 included', async () => {
    const na = a.cache.namespace('del');
    const nb = b.cache.namespace('del');
    await na.set('k', 1);
    expect(await nb.get('k')).toBe(1); // now in B's L1
    await na.delete('k');
    expect(await nb.get('k')).toBeUndefined();
  });

  it("replaces B's L1 copy when A sets a new value", async () => {
    await a.cache.namespace('upd').set('k', 'old');
    expect(await b.cache.namespace('upd').get('k')).toBe('old');
    await a.cache.namespace('upd').set('k', 'new');
    expect(await b.cache.namespace('upd').get('k')).toBe('new');
  });

  it("ignores its own bus messages: A's set stays in A's L1 while B drops its copy", async () => {
    const na = a.cache.namespace('echo');
    await na.set('k', 'v1');
    expect(await b.cache.namespace('echo').get('k')).toBe('v1'); // in B's L1
    const [busA, busB] = [a.cache.status().bus, b.cache.status().bus];
    await na.set('k', 'v2'); // resolves once every subscriber, A's own included, acknowledged
    expect(a.cache.status().bus).toEqual({ ...busA, published: busA.published + 1, ignored: busA.ignored + 1 });
    expect(b.cache.status().bus).toEqual({ ...busB, received: busB.received + 1 });
    const before = a.cache.stats().echo.l1.hits;
    const calls = await commandCalls(a.redis);
    expect(await na.get('k')).toBe('v2');
    expect(a.cache.stats().echo.l1.hits).toBe(before + 1);
    const after = await commandCalls(a.redis);
    expect(Object.keys(after).filter((cmd) => after[cmd] !== calls[cmd])).toEqual(['info']);
    expect(await b.cache.namespace('echo').get('k')).toBe('v2');
  });

  it('makes a tag invalidation on A a miss on B at once, in every namespace', async () => {
    await a.cache.namespace('x').set('1', 'one', { tags: ['user:7'] });
    await a.cache.namespace('y').set('2', 'two', { tags: ['user:7', 'other'] });
    await a.cache.namespace('y').set('3', 'three', { tags: ['other'] });
    expect(await b.cache.namespace('x').get('1')).toBe('one');
    expect(await b.cache.namespace('y').get('2')).toBe('two');
    const received = b.cache.status().bus.received;
    await a.cache.invalidateTags(['user:7']);
    expect(b.cache.status().bus.received).toBe(received + 1);
    expect(await b.cache.namespace('x').get('1')).toBeUndefined();
    expect(await b.cache.namespace('y').get('2')).toBeUndefined();
    expect(await b.cache.namespace('y').get('3')).toBe('three');
    expect(await a.cache.namespace('x').get('1')).toBeUndefined();
  });

  it('makes a namespace clear on A a miss on B at once, and leaves other namespaces alone', async () => {
    await a.cache.namespace('clear-me').mset([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    await a.cache.namespace('keep-me').set('a', 3);
    expect(await b.cache.namespace('clear-me').mget(['a', 'b'])).toEqual([1, 2]);
    await a.cache.clearNamespace('clear-me');
    expect(await b.cache.namespace('clear-me').mget(['a', 'b'])).toEqual([undefined, undefined]);
    expect(await b.cache.namespace('keep-me').get('a')).toBe(3);
  });

  it('reports a key holding undefined as present, on the writer (L1) and on another instance (L2)', async () => {
    await a.cache.namespace('has').set('undef', undefined);
    expect(await a.cache.namespace('has').has('undef')).toBe(true);
    expect(await b.cache.namespace('has').has('undef')).toBe(true);
    expect(b.cache.stats().has.l2.hits).toBe(1);
    expect(await b.cache.namespace('has').has('undef')).toBe(true); // now from B's L1
    expect(await a.cache.namespace('has').has('missing')).toBe(false);
    expect(await b.cache.namespace('has').has('missing')).toBe(false);
  });

  it('sends one script call for an mset of 50 entries and one for an mget of 50 keys missing from L1', async () => {
    const entries = Array.from({ length: 50 }, (_, i) => ({
      key: `k${i}`,
      value: { i },
      options: { tags: [`t${i}`] },
    }));
    const keys = entries.map((e) => e.key);
    // Once first, so that EVALSHA finds the scripts loaded (no NOSCRIPT retry in the counts).
    await a.cache.namespace('batch-warm').mset(entries);
    await b.cache.namespace('batch-warm').mget(keys);
    const evalCalls = (calls: Record<string, number>) => ({ evalsha: calls.evalsha ?? 0, eval: calls.eval ?? 0 });
    const before = evalCalls(await commandCalls(a.redis));
    await a.cache.namespace('batch').mset(entries);
    const afterSet = evalCalls(await commandCalls(a.redis));
    expect(afterSet).toEqual({ evalsha: before.evalsha + 1, eval: before.eval });
    expect(await b.cache.namespace('batch').mget(keys)).toEqual(entries.map((e) => e.value));
    expect(evalCalls(await commandCalls(a.redis))).toEqual({ evalsha: afterSet.evalsha + 1, eval: before.eval });
    expect(b.cache.stats().batch.l2).toMatchObject({ hits: 50, misses: 0 });
    // Now in B's L1: no Redis call at all.
    expect(await b.cache.namespace('batch').mget(keys)).toEqual(entries.map((e) => e.value));
    expect(b.cache.stats().batch.l1.hits).toBe(50);
    // Tags written by the batch work as with set().
    await a.cache.invalidateTags(['t3']);
    const read = await b.cache.namespace('batch').mget(['k2', 'k3', 'missing']);
    expect(read).toEqual([{ i: 2 }, undefined, undefined]);
  });

  it('never reads an entry written under another schema version', async () => {
    const v2 = await createCacheInstance(server.url, { prefix, schemaVersion: '2' });
    try {
      await a.cache.namespace('schema').set('k', { shape: 'old' });
      expect(await v2.cache.namespace('schema').get('k')).toBeUndefined();
    } finally {
      await v2.close();
    }
  });

  it('keeps every key inside its prefix and hashes unsafe keys', async () => {
    const observer = createClient({ url: server.url });
    await observer.connect();
    try {
      await a.cache.namespace('unsafe').set('a key with spaces and {braces}*?', 1);
      const keys = await observer.keys('*');
      expect(keys.every((k) => k.startsWith(`${prefix}:`))).toBe(true);
      expect(keys.filter((k) => k.startsWith(`${prefix}:c:unsafe:`))).toEqual([expect.stringMatching(/^[\w:.-]+$/)]);
    } finally {
      observer.destroy();
    }
  });

  it('refuses an unserializable or oversized value and stores nothing', async () => {
    const small = await createCacheInstance(server.url, { prefix, maxEntryBytes: 100 });
    try {
      const ns = small.cache.namespace('refuse');
      await expect(ns.set('fn', { f: () => 1 })).rejects.toMatchObject({ code: 'E_CACHE_SERIALIZATION' });
      await expect(ns.set('big', 'x'.repeat(200))).rejects.toMatchObject({ code: 'E_CACHE_TOO_LARGE' });
      expect(await ns.get('fn')).toBeUndefined();
      expect(await ns.get('big')).toBeUndefined();
      expect(await a.cache.namespace('refuse').get('big')).toBeUndefined();
    } finally {
      await small.close();
    }
  });

  it('returns what getOrSet loaded when the cache cannot hold it, counting an error and storing nothing', async () => {
    const small = await createCacheInstance(server.url, { prefix, maxEntryBytes: 100 });
    try {
      const ns = small.cache.namespace('uncacheable');
      const fn = { f: () => 1 };
      const big = 'x'.repeat(200);
      expect(await ns.getOrSet('fn', () => fn)).toBe(fn);
      expect(await ns.getOrSet('big', () => big)).toBe(big);
      expect(small.cache.stats().uncacheable.l1).toMatchObject({ errors: 2, sets: 0 });
      expect(small.cache.stats().uncacheable.l2.sets).toBe(0);
      expect(small.cache.status().l1.entries).toBe(0);
      const keys = [small.cache.redisKey('uncacheable', 'fn'), small.cache.redisKey('uncacheable', 'big')];
      expect(await small.redis.run((c) => c.exists(keys))).toBe(0);
      // Not cached: the next call loads again.
      let loads = 0;
      await ns.getOrSet('big', () => (loads++, big));
      expect(loads).toBe(1);
      // set() stays strict.
      await expect(ns.set('big', big)).rejects.toMatchObject({ code: 'E_CACHE_TOO_LARGE' });
    } finally {
      await small.close();
    }
  });
});
