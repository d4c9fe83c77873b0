import {
  createCacheInstance,
  startCacheCluster,
  uniquePrefix,
  type CacheCluster,
  type CacheInstance,
} from '../support/cache-instance';
import { TestRedisServer } from '../support/redis-server';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('grace (stale-if-error)', () => {
  let cluster: CacheCluster;
  let a: CacheInstance;
  let b: CacheInstance;

  beforeAll(async () => {
    cluster = await startCacheCluster(2, { ttlJitter: 0 });
    [a, b] = cluster.instances;
  });

  afterAll(() => cluster?.close());

  const failing = () => Promise.reject(new Error('source down'));

  it('serves the expired value within grace when the loader fails, and the error after grace', async () => {
    const ns = a.cache.namespace('grace');
    expect(await ns.getOrSet('k', () => 'v1', { ttl: 100, grace: 400 })).toBe('v1');
    await sleep(150);
    expect(await ns.getOrSet('k', failing, { ttl: 100, grace: 400 })).toBe('v1');
    // Redis still had the expired entry (its grace keeps it there): the stale value is L2's.
    expect(a.cache.stats().grace.l2.staleHits).toBe(1);
    // The other instance has no L1 copy: the grace value comes from L2.
    expect(await b.cache.namespace('grace').getOrSet('k', failing)).toBe('v1');
    await sleep(450);
    await expect(ns.getOrSet('k', failing)).rejects.toThrow('source down');
  });

  it('refreshes an expired entry when the loader succeeds', async () => {
    const ns = a.cache.namespace('grace-ok');
    await ns.getOrSet('k', () => 'v1', { ttl: 100, grace: 1_000 });
    await sleep(150);
    expect(await ns.getOrSet('k', () => 'v2', { ttl: 100, grace: 1_000 })).toBe('v2');
  });

  it.each([
    ['a key delete', (ns: ReturnType<CacheInstance['cache']['namespace']>) => ns.delete('k')],
    ['a tag invalidation', (ns: ReturnType<CacheInstance['cache']['namespace']>) => ns.invalidateTags(['t'])],
    ['a namespace clear', (ns: ReturnType<CacheInstance['cache']['namespace']>) => ns.clear()],
  ])('never serves an entry invalidated by %s as a grace value', async (_, invalidate) => {
    const ns = a.cache.namespace(`inv-${Math.random()}`);
    await ns.getOrSet('k', () => 'v1', { ttl: 60_000, grace: 60_000, tags: ['t'] });
    await invalidate(ns);
    await expect(ns.getOrSet('k', failing)).rejects.toThrow('source down');
    await expect(b.cache.namespace(ns.name).getOrSet('k', failing)).rejects.toThrow('source down');
  });
});

describe('refresh-ahead', () => {
  it('returns the cached value and reloads it in the background when little TTL is left', async () => {
    const server = await TestRedisServer.start();
    const instance = await createCacheInstance(server.url, { prefix: uniquePrefix(), ttlJitter: 0 });
    try {
      const ns = instance.cache.namespace('ahead');
      let version = 0;
      const loader = () => Promise.resolve(++version);
      expect(await ns.getOrSet('k', loader, { ttl: 1_000, refreshAhead: 0.5 })).toBe(1);
      expect(await ns.getOrSet('k', loader, { ttl: 1_000, refreshAhead: 0.5 })).toBe(1); // plenty left: no reload
      await sleep(600);
      expect(await ns.getOrSet('k', loader, { ttl: 1_000, refreshAhead: 0.5 })).toBe(1); // served at once...
      await sleep(50);
      expect(version).toBe(2); // ...and reloaded once in the background
      expect(await ns.get('k')).toBe(2);
    } finally {
      await instance.close();
      await server.stop();
    }
  });
});
