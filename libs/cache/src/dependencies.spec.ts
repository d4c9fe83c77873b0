import { resolveCacheOptions } from './cache.options';
import { CacheDependencies } from './dependencies';
import { TieredCache } from './tiered-cache';

function memoryCache(): TieredCache {
  return new TieredCache(resolveCacheOptions({ backend: 'memory', defaultTtlMs: 60_000 }));
}

describe('CacheDependencies', () => {
  it('collects the tags and the shortest TTL of every tagged getOrSet, hit or miss', async () => {
    const cache = memoryCache();
    await cache.getOrSet('q', 'warm', () => 1, { tags: ['user:1'], ttl: 30_000 });
    const { value, dependencies } = await CacheDependencies.track(async () => {
      const hit = await cache.getOrSet('q', 'warm', () => 0, { tags: ['user:1'], ttl: 30_000 });
      const miss = await cache.getOrSet('q', 'cold', () => 2, { tags: ['user:2', 'users:list'], ttl: 5_000 });
      const untagged = await cache.getOrSet('q', 'plain', () => 3);
      return hit + miss + untagged;
    });
    expect(value).toBe(6);
    expect([...dependencies.tags].sort()).toEqual(['user:1', 'user:2', 'users:list']);
    expect(dependencies.minTtlMs).toBe(5_000);
    expect(dependencies.reads).toBe(2);
  });

  it('counts a read without a TTL at the default TTL, and knows nothing outside a scope', async () => {
    const cache = memoryCache();
    expect(CacheDependencies.active).toBe(false);
    await cache.getOrSet('q', 'outside', () => 1, { tags: ['ignored'] });
    const { dependencies } = await CacheDependencies.track(() => cache.getOrSet('q', 'k', () => 1, { tags: ['t'] }));
    expect([...dependencies.tags]).toEqual(['t']);
    expect(dependencies.minTtlMs).toBe(60_000);
  });

  it('keeps concurrent scopes apart and counts an inner scope for the outer one too', async () => {
    const cache = memoryCache();
    const outer = CacheDependencies.track(async () => {
      await cache.getOrSet('q', 'a', () => 1, { tags: ['a'] });
      const inner = await CacheDependencies.track(() => cache.getOrSet('q', 'b', () => 1, { tags: ['b'] }));
      return [...inner.dependencies.tags];
    });
    const other = CacheDependencies.track(() => cache.getOrSet('q', 'c', () => 1, { tags: ['c'] }));
    const [o, x] = await Promise.all([outer, other]);
    expect(o.value).toEqual(['b']);
    expect([...o.dependencies.tags].sort()).toEqual(['a', 'b']);
    expect([...x.dependencies.tags]).toEqual(['c']);
  });
});

describe(`${TieredCache.name} value-dependent options`, () => {
  it('stores an entry under tags computed from the loaded value, and invalidates it by them', async () => {
    const cache = memoryCache();
    const loaded = await cache.getOrSet('r', 'k', () => ({ id: 7 }), { tags: (v) => [`row:${v.id}`] });
    expect(loaded).toEqual({ id: 7 });
    expect(await cache.get('r', 'k')).toEqual({ id: 7 });
    await cache.invalidateTags(['row:8']);
    expect(await cache.get('r', 'k')).toEqual({ id: 7 });
    await cache.invalidateTags(['row:7']);
    expect(await cache.get('r', 'k')).toBeUndefined();
  });

  it('records value-dependent tags as dependencies once they are known', async () => {
    const cache = memoryCache();
    const { dependencies } = await CacheDependencies.track(() =>
      cache.getOrSet('r', 'k', () => 3, { tags: (v) => [`n:${v}`], ttl: 1_000 }),
    );
    expect([...dependencies.tags]).toEqual(['n:3']);
    expect(dependencies.minTtlMs).toBe(1_000);
  });

  it('returns a value `cacheable` refuses to every waiter without storing it', async () => {
    const cache = memoryCache();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const loader = async () => (runs++, await gate, { keep: false });
    const options = { cacheable: (v: { keep: boolean }) => v.keep };
    const calls = [cache.getOrSet('r', 'k', loader, options), cache.getOrSet('r', 'k', loader, options)];
    release();
    expect(await Promise.all(calls)).toEqual([{ keep: false }, { keep: false }]);
    expect(runs).toBe(1);
    expect(await cache.has('r', 'k')).toBe(false);
    await cache.getOrSet('r', 'k', () => ({ keep: true }), options);
    expect(await cache.get('r', 'k')).toEqual({ keep: true });
  });

  it('stores with the exact TTL when a call sets jitter to 0, and refuses a jitter outside 0..1', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const cache = new TieredCache(resolveCacheOptions({ backend: 'memory', ttlJitter: 1 }));
      await cache.set('r', 'k', 1, { ttl: 10_000, jitter: 0 });
      jest.setSystemTime(1_000_000 + 9_999);
      expect(await cache.get('r', 'k')).toBe(1);
      jest.setSystemTime(1_000_000 + 10_001);
      expect(await cache.get('r', 'k')).toBeUndefined();
      await expect(cache.set('r', 'k', 1, { jitter: 2 })).rejects.toThrow(/jitter/);
    } finally {
      jest.useRealTimers();
    }
  });
});
