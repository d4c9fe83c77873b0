import { createCacheInstance, uniquePrefix, type CacheInstance } from '../support/cache-instance';
import { TestRedisServer } from '../support/redis-server';

const slowLoader =
  (calls: { n: number }, ms = 150) =>
  async () => {
    calls.n++;
    await new Promise((r) => setTimeout(r, ms));
    return { loadedAt: Date.now() };
  };

describe('stampede protection', () => {
  let server: TestRedisServer;
  const instances: CacheInstance[] = [];

  beforeAll(async () => {
    server = await TestRedisServer.start();
  });

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.close()));
    await server?.stop();
  });

  const instance = async (prefix: string) => {
    const created = await createCacheInstance(server.url, { prefix });
    instances.push(created);
    return created;
  };

  it('runs the loader once for 1,000 concurrent getOrSet of a cold key', async () => {
    const { cache } = await instance(uniquePrefix());
    const calls = { n: 0 };
    const results = await Promise.all(
      Array.from({ length: 1_000 }, () => cache.namespace('cold').getOrSet('k', slowLoader(calls))),
    );
    expect(calls.n).toBe(1);
    expect(new Set(results.map((r) => r.loadedAt)).size).toBe(1);
  });

  it('runs the loader once in memory mode too', async () => {
    const memory = await createCacheInstance(undefined, { prefix: uniquePrefix(), backend: 'memory' });
    instances.push(memory);
    const calls = { n: 0 };
    await Promise.all(Array.from({ length: 1_000 }, () => memory.cache.getOrSet('k', slowLoader(calls))));
    expect(calls.n).toBe(1);
  });

  it('does not cache a failure: the next call loads again', async () => {
    const { cache } = await instance(uniquePrefix());
    let n = 0;
    const failing = () => {
      n++;
      return Promise.reject(new Error('db down'));
    };
    await expect(Promise.all([cache.getOrSet('f', failing), cache.getOrSet('f', failing)])).rejects.toThrow('db down');
    expect(n).toBe(1);
    expect(await cache.getOrSet('f', () => 'ok')).toBe('ok');
  });

  it('runs the loader once across three instances with lockAcrossInstances', async () => {
    const prefix = uniquePrefix();
    const three = await Promise.all([instance(prefix), instance(prefix), instance(prefix)]);
    const calls = { n: 0 };
    const results = await Promise.all(
      three.flatMap(({ cache }) =>
        Array.from({ length: 100 }, () =>
          cache.namespace('locked').getOrSet('k', slowLoader(calls, 300), { lockAcrossInstances: true }),
        ),
      ),
    );
    expect(calls.n).toBe(1);
    expect(new Set(results.map((r) => r.loadedAt)).size).toBe(1);
  });

  it('renews the lease while a loader outlives it, so another instance does not load concurrently', async () => {
    const options = { prefix: uniquePrefix(), lockLeaseMs: 300 };
    const [holder, late] = await Promise.all([
      createCacheInstance(server.url, options),
      createCacheInstance(server.url, options),
    ]);
    instances.push(holder, late);
    let calls = 0;
    let running = 0;
    let mostAtOnce = 0;
    const loader = (who: string) => async () => {
      calls++;
      mostAtOnce = Math.max(mostAtOnce, ++running);
      await new Promise((r) => setTimeout(r, 1_200)); // four leases long
      running--;
      return who;
    };
    const first = holder.cache.getOrSet('k', loader('holder'), { lockAcrossInstances: true });
    await new Promise((r) => setTimeout(r, 800)); // an unrenewed lease would have expired 500 ms ago
    // The loader's lock (`loader:{namespace}:{key}`) is still held: nobody else can take it.
    expect(await late.cache.lock.acquire('loader:default:k', { waitMs: 0 })).toBeUndefined();
    const second = late.cache.getOrSet('k', loader('late'), { lockAcrossInstances: true });
    expect(await first).toBe('holder');
    expect(await second).toBe('holder');
    expect(calls).toBe(1);
    expect(mostAtOnce).toBe(1);
  });

  it("wakes a waiting instance with the holder's release notice, not the poll", async () => {
    const options = { prefix: uniquePrefix(), lockPollMs: 30_000 };
    const [holder, waiter] = await Promise.all([
      createCacheInstance(server.url, options),
      createCacheInstance(server.url, options),
    ]);
    instances.push(holder, waiter);
    const calls = { n: 0 };
    const first = holder.cache.getOrSet('k', slowLoader(calls, 300), { lockAcrossInstances: true });
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    const second = waiter.cache.getOrSet('k', slowLoader(calls), { lockAcrossInstances: true });
    expect(await second).toEqual(await first);
    expect(Date.now() - started).toBeLessThan(10_000); // the poll would have taken 30 s
    expect(calls.n).toBe(1);
  });

  it('without the lock, each instance loads once (per-process single flight)', async () => {
    const prefix = uniquePrefix();
    const three = await Promise.all([instance(prefix), instance(prefix), instance(prefix)]);
    const calls = { n: 0 };
    await Promise.all(three.map(({ cache }) => cache.namespace('unlocked').getOrSet('k', slowLoader(calls, 300))));
    expect(calls.n).toBe(3);
  });

  it('makes a waiter wait for the lock holder, and load itself once the holder fails', async () => {
    const options = { prefix: uniquePrefix(), lockWaitMs: 30_000 };
    const [holder, waiter] = await Promise.all([
      createCacheInstance(server.url, options),
      createCacheInstance(server.url, options),
    ]);
    instances.push(holder, waiter);
    const events: string[] = [];
    let holderLoading!: () => void;
    const holderStarted = new Promise<void>((r) => (holderLoading = r));
    const first = holder.cache.getOrSet(
      'k',
      async () => {
        events.push('holder loads');
        holderLoading(); // the lease is taken before the loader runs
        await new Promise((r) => setTimeout(r, 500));
        events.push('holder fails');
        throw new Error('holder failed');
      },
      { lockAcrossInstances: true },
    );
    await holderStarted;
    const started = Date.now();
    const second = waiter.cache.getOrSet(
      'k',
      () => {
        events.push('waiter loads');
        return 'from waiter';
      },
      { lockAcrossInstances: true },
    );
    await expect(first).rejects.toThrow('holder failed');
    expect(await second).toBe('from waiter');
    // Without the lock the waiter would load at once, while the holder still runs.
    expect(events).toEqual(['holder loads', 'holder fails', 'waiter loads']);
    // Woken by the holder's release, not by the end of lockWaitMs.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('does not put back a value loaded before an invalidation of its tag', async () => {
    const { cache } = await instance(uniquePrefix());
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const loading = cache.getOrSet(
      'race',
      async () => {
        await gate; // the loader read the old row, then stalls
        return 'old';
      },
      { tags: ['row:1'] },
    );
    await new Promise((r) => setTimeout(r, 20));
    await cache.invalidateTags(['row:1']); // the write commits and invalidates
    release();
    expect(await loading).toBe('old'); // the caller gets what it loaded...
    expect(await cache.get('race')).toBeUndefined(); // ...but it is not cached
  });
});
