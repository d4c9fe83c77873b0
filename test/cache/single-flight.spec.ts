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

  it('without the lock, each instance loads once (per-process single flight)', async () => {
    const prefix = uniquePrefix();
    const three = await Promise.all([instance(prefix), instance(prefix), instance(prefix)]);
    const calls = { n: 0 };
    await Promise.all(three.map(({ cache }) => cache.namespace('unlocked').getOrSet('k', slowLoader(calls, 300))));
    expect(calls.n).toBe(3);
  });

  it('lets waiters load themselves when the lock holder fails', async () => {
    const prefix = uniquePrefix();
    const [holder, waiter] = await Promise.all([instance(prefix), instance(prefix)]);
    const first = holder.cache.getOrSet(
      'k',
      async () => {
        await new Promise((r) => setTimeout(r, 200));
        throw new Error('holder failed');
      },
      { lockAcrossInstances: true },
    );
    await new Promise((r) => setTimeout(r, 50));
    const second = waiter.cache.getOrSet('k', () => 'from waiter', { lockAcrossInstances: true });
    await expect(first).rejects.toThrow('holder failed');
    expect(await second).toBe('from waiter');
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
