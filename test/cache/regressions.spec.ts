import {
  createCacheInstance,
  startCacheCluster,
  uniquePrefix,
  type CacheCluster,
  type CacheInstance,
} from '../support/cache-instance';
import { waitFor } from '../support/free-port';
import { TestRedisServer } from '../support/redis-server';

// Scenarios found in review, each of which served an invalidated value or
// waited needlessly before it was fixed. They reach into the engine to force
// the interleavings deterministically.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The engine's parts (the seam `TieredCache.parts` gives tests). */
const partsOf = (i: CacheInstance) => i.cache.engine.parts;
const l2Of = (i: CacheInstance) => partsOf(i).remote.l2!;

describe('invalidation races', () => {
  let cluster: CacheCluster;
  let a: CacheInstance;
  let b: CacheInstance;

  beforeAll(async () => {
    cluster = await startCacheCluster(2);
    [a, b] = cluster.instances;
  });

  afterAll(() => cluster?.close());

  it('does not let an L2 read that was in flight during a delete refill L1', async () => {
    await b.cache.namespace('r1').set('k', 'old');
    const ns = a.cache.namespace('r1');
    const inflight = ns.get('k');
    await ns.delete('k');
    await inflight;
    expect(await ns.get('k')).toBeUndefined();
  });

  it('refuses a late write over a newer write made after the loader started', async () => {
    const l2 = l2Of(a);
    const key = a.cache.redisKey('r2', 'k');
    const read = await l2.get(key);
    await l2.delete([key]);
    await l2.set({ key, ttlMs: 10_000, graceMs: 0, schema: '1', tags: ['ns.r2'], payload: '"new"', notBefore: 0 });
    const late = await l2.set({
      key,
      ttlMs: 10_000,
      graceMs: 0,
      schema: '1',
      tags: ['ns.r2'],
      payload: '"old"',
      notBefore: read.now,
    });
    expect(late).toBe(false);
    expect(await a.cache.namespace('r2').get('k')).toBe('new');
  });

  it('treats an undecodable L2 entry as a counted miss', async () => {
    const key = a.cache.redisKey('r4', 'k');
    const now = Date.now();
    await a.redis.run((c) => c.set(key, `v1|${now}|${now + 60_000}|${now + 60_000}|1|ns.r4\n{not json`));
    expect(await a.cache.namespace('r4').getOrSet('k', () => 'loaded')).toBe('loaded');
    expect(a.cache.stats().r4.l2.errors).toBe(1);
  });

  it('notices a lost subscriber connection and drops L1 before trusting it again', async () => {
    await a.cache.namespace('r5').set('k', 'old');
    expect(await b.cache.namespace('r5').get('k')).toBe('old'); // in B's L1
    const full = b.cache.redisKey('r5', 'k');
    await l2Of(a).delete([full]);
    // The subscribers are dropped just as the invalidation is published: B misses the message.
    await Promise.all([
      a.redis.command(['CLIENT', 'KILL', 'TYPE', 'pubsub']),
      partsOf(a).bus!.publish({ keys: [full] }),
    ]);
    await waitFor(
      async () => (await b.cache.namespace('r5').get('k')) === undefined,
      3_000,
      'B to drop its stale copy',
    );
    await waitFor(() => b.cache.status().usingRedis, 3_000, 'B back on Redis');
  });
});

describe('outage edge cases', () => {
  let server: TestRedisServer;

  beforeAll(async () => {
    server = await TestRedisServer.start();
  });

  afterAll(() => server?.stop());

  it('caps grace so an entry never outlives the tag markers that invalidate it', async () => {
    const prefix = uniquePrefix();
    const [a, b] = await Promise.all([
      createCacheInstance(server.url, { prefix, maxTtlMs: 1_000, ttlJitter: 0 }),
      createCacheInstance(server.url, { prefix, maxTtlMs: 1_000, ttlJitter: 0 }),
    ]);
    try {
      await a.cache.namespace('r6').set('k', 'invalidated', { ttl: 500, grace: 3_000, tags: ['t'] });
      await a.cache.invalidateTags(['t']);
      await sleep(1_300); // the marker has expired
      const failing = () => Promise.reject(new Error('db down'));
      await expect(b.cache.namespace('r6').getOrSet('k', failing, { grace: 3_000 })).rejects.toThrow('db down');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('does not bring back an older L2 value after a set made while the breaker was open', async () => {
    const a = await createCacheInstance(server.url, { prefix: uniquePrefix(), probeIntervalMs: 60_000 });
    try {
      const ns = a.cache.namespace('r7');
      await ns.set('k', 'v1');
      partsOf(a).remote.breaker.trip();
      await ns.set('k', 'v2');
      expect(await ns.get('k')).toBe('v2');
      await partsOf(a).recovery.tryRecover();
      expect(a.cache.status().usingRedis).toBe(true);
      expect(await ns.get('k')).not.toBe('v1');
    } finally {
      await a.close();
    }
  });

  it("stops waiting for another instance's loader once Redis stops answering", async () => {
    const prefix = uniquePrefix();
    const a = await createCacheInstance(server.url, { prefix, probeIntervalMs: 60_000 });
    const b = await createCacheInstance(server.url, { prefix, probeIntervalMs: 60_000, lockWaitMs: 3_000 });
    try {
      const holder = a.cache
        .namespace('r8')
        .getOrSet('k', () => sleep(1_500).then(() => 'A'), { lockAcrossInstances: true });
      await sleep(100);
      const started = Date.now();
      const waiter = b.cache.namespace('r8').getOrSet('k', () => 'B', { lockAcrossInstances: true });
      await sleep(100);
      partsOf(b).remote.breaker.trip();
      expect(await waiter).toBe('B');
      expect(Date.now() - started).toBeLessThan(1_500); // not the 3 s lockWaitMs
      await holder;
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
