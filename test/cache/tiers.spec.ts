import { createClient } from '@redis/client';
import {
  commandCalls,
  createCacheInstance,
  startCacheCluster,
  uniquePrefix,
  type CacheCluster,
  type CacheInstance,
} from '../support/cache-instance';
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

  it("reads on B what A set, and fills B's L1 with the L2 entry's remaining TTL", async () => {
    await a.cache.namespace('ttl').set('k', 'v', { ttl: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await b.cache.namespace('ttl').get('k')).toBe('v');
    const key = a.cache.redisKey('ttl', 'k');
    const pttl = await a.redis.run((c) => c.pTTL(key));
    expect(pttl).toBeLessThanOrEqual(9_800);
    // B's L1 copy expires with the L2 entry, not 10 s after B read it.
    const stats = b.cache.stats().ttl;
    expect(stats.l2.hits).toBe(1);
  });

  it("expires B's L1 copy with the L2 entry, not a full TTL after B read it", async () => {
    await a.cache.namespace('remaining').set('k', 'v', { ttl: 600 });
    await new Promise((r) => setTimeout(r, 350));
    expect(await b.cache.namespace('remaining').get('k')).toBe('v'); // L2 hit, copied into B's L1
    await new Promise((r) => setTimeout(r, 350));
    // 700 ms after the write: a fresh 600 ms TTL in B's L1 would still hit.
    expect(await b.cache.namespace('remaining').get('k')).toBeUndefined();
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
});
