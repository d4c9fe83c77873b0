import { CacheLockLostError, DistributedLock, type Lease } from '@app/cache';
import { createCacheInstance, uniquePrefix, type CacheInstance } from '../support/cache-instance';
import { TestRedisServer } from '../support/redis-server';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when the lease's signal aborts; rejects after `ms`. */
const lostWithin = (lease: Lease, ms: number) =>
  new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('lease not reported lost')), ms);
    lease.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(lease.signal.reason);
    });
  });

describe('DistributedLock over Redis', () => {
  let server: TestRedisServer;
  const opened: CacheInstance[] = [];

  beforeAll(async () => {
    server = await TestRedisServer.start();
  });

  afterAll(async () => {
    await Promise.all(opened.map((i) => i.close()));
    await server?.stop();
  });

  /** Two instances on one prefix (two app processes). */
  const pair = async (options: Parameters<typeof createCacheInstance>[1] = {}) => {
    const prefix = uniquePrefix();
    const both = await Promise.all([
      createCacheInstance(server.url, { prefix, ...options }),
      createCacheInstance(server.url, { prefix, ...options }),
    ]);
    opened.push(...both);
    return { prefix, a: both[0], b: both[1] };
  };

  it('is injectable and shares the cache service lock', async () => {
    const { a } = await pair();
    expect(a.moduleRef.get(DistributedLock)).toBe(a.cache.lock);
  });

  it('lets one instance at a time run withLock', async () => {
    const { a, b } = await pair({ lockPollMs: 50 });
    let running = 0;
    let mostAtOnce = 0;
    let runs = 0;
    const work = async () => {
      runs++;
      mostAtOnce = Math.max(mostAtOnce, ++running);
      await sleep(20);
      running--;
    };
    await Promise.all(
      [a, b].flatMap(({ cache }) =>
        Array.from({ length: 5 }, () => cache.lock.withLock('job', work, { waitMs: 20_000 })),
      ),
    );
    expect(runs).toBe(10);
    expect(mostAtOnce).toBe(1);
  });

  it('hands out strictly increasing fencing tokens across acquisitions and instances, even after the counter is lost', async () => {
    const { prefix, a, b } = await pair();
    const tokens: number[] = [];
    for (let i = 0; i < 6; i++) {
      const lease = await (i % 2 ? b : a).cache.lock.acquire('fenced', { waitMs: 0 });
      tokens.push(lease!.fencingToken);
      await lease!.release();
      if (i === 3) await a.redis.run((c) => c.del(`${prefix}:lk:{fenced}:fence`));
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
    expect(tokens.every(Number.isSafeInteger)).toBe(true);
  });

  it('honours the wait deadline while another instance holds the lock', async () => {
    const { a, b } = await pair({ lockPollMs: 50 });
    const held = await a.cache.lock.acquire('busy', { waitMs: 0 });
    expect(held).toBeDefined();
    const started = Date.now();
    expect(await b.cache.lock.acquire('busy', { waitMs: 300 })).toBeUndefined();
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(5_000);
    expect(b.cache.lockStats().busy).toBe(1);
    await held!.release();
  });

  it("wakes a waiter on another instance with the holder's release notice, not the poll", async () => {
    const { a, b } = await pair({ lockPollMs: 30_000 });
    const held = await a.cache.lock.acquire('notice', { waitMs: 0 });
    const started = Date.now();
    const waiting = b.cache.lock.acquire('notice', { waitMs: 120_000 });
    await sleep(200);
    await held!.release();
    const lease = await waiting;
    expect(lease?.held).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000); // the poll would have taken 30 s
    await lease!.release();
  });

  it('renews a held lease past its ttl', async () => {
    const { prefix, a, b } = await pair();
    const lease = await a.cache.lock.acquire('renewed', { ttlMs: 300, waitMs: 0 });
    await sleep(1_200); // four ttls
    expect(lease!.held).toBe(true);
    expect(await a.redis.run((c) => c.pTTL(`${prefix}:lk:{renewed}`))).toBeGreaterThan(0);
    expect(await b.cache.lock.acquire('renewed', { waitMs: 0 })).toBeUndefined();
    await lease!.release();
    expect(await b.cache.lock.acquire('renewed', { waitMs: 0 })).toBeDefined();
  });

  it('reports the loss when the key is deleted or taken by another owner', async () => {
    const { prefix, a } = await pair();
    const deleted = await a.cache.lock.acquire('lost', { ttlMs: 300, waitMs: 0 });
    await a.redis.run((c) => c.del(`${prefix}:lk:{lost}`));
    expect(await lostWithin(deleted!, 3_000)).toBeInstanceOf(CacheLockLostError);
    expect(deleted!.lost).toBe(true);
    expect(deleted!.held).toBe(false);

    const stolen = await a.cache.lock.acquire('stolen', { ttlMs: 300, waitMs: 0 });
    await a.redis.run((c) =>
      c.set(`${prefix}:lk:{stolen}`, 'someone-else', { expiration: { type: 'PX', value: 60_000 } }),
    );
    await lostWithin(stolen!, 3_000);
    expect(a.cache.lockStats().lost).toBe(2);
  });

  it("releases by compare-and-delete: a former owner cannot delete its successor's lock", async () => {
    const { prefix, a, b } = await pair();
    const key = `${prefix}:lk:{handover}`;
    const first = await a.cache.lock.acquire('handover', { ttlMs: 30_000, waitMs: 0 });
    await a.redis.run((c) => c.del(key)); // as if it had expired
    const second = await b.cache.lock.acquire('handover', { ttlMs: 30_000, waitMs: 0 });
    expect(second).toBeDefined();
    expect(await first!.release()).toBe(false); // still "held" locally: the script ran and refused
    expect(await a.redis.run((c) => c.get(key))).toBe(second!.token);
    expect(await a.cache.lock.acquire('handover', { waitMs: 0 })).toBeUndefined();
    expect(await second!.release()).toBe(true);
    expect(await a.redis.run((c) => c.exists(key))).toBe(0);
  });
});

/** One instance on a Redis server of the test's own (paused or filled by it): fast deadlines, breaker after 2 failures. */
async function withOwnRedis(run: (server: TestRedisServer, instance: CacheInstance) => Promise<void>): Promise<void> {
  const server = await TestRedisServer.start();
  const instance = await createCacheInstance(
    server.url,
    { prefix: uniquePrefix(), probeIntervalMs: 60_000, breakerThreshold: 2 },
    { commandTimeoutMs: 200 },
  );
  try {
    await run(server, instance);
  } finally {
    server.resume(); // a paused server would hold the instance's close
    await instance.close();
    await server.stop();
  }
}

describe('DistributedLock with Redis paused', () => {
  it('fails fast, counts the failures, feeds the breaker, and then skips Redis at once', () =>
    withOwnRedis(async (server, instance) => {
      const { lock } = instance.cache;
      expect(await lock.acquire('job', { waitMs: 0 })).toBeDefined();
      server.pause();
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        expect(await lock.acquire('paused', { waitMs: 10_000 })).toBeUndefined();
        expect(Date.now() - started).toBeLessThan(2_000); // one command deadline, not the 10 s wait
      }
      expect(instance.cache.lockStats().failed).toBe(2);
      expect(instance.cache.status().breaker).toBe('open');
      const started = Date.now();
      await expect(lock.withLock('paused', () => 'ran')).rejects.toMatchObject({ reason: 'unavailable' });
      expect(Date.now() - started).toBeLessThan(100);
      expect(instance.cache.lockStats().skipped).toBe(1);
    }));
});

describe('DistributedLock with Redis refusing writes', () => {
  it('counts a refused acquisition, and keeps the breaker closed (Redis answered at once)', () =>
    withOwnRedis(async (_server, instance) => {
      const config = (settings: Record<string, string>) => instance.redis.run((c) => c.configSet(settings));
      await config({ 'maxmemory-policy': 'noeviction', maxmemory: '1' });
      const { lock } = instance.cache;
      // The acquire script writes: Redis answers each call with an OOM error reply.
      for (let i = 0; i < 3; i++) expect(await lock.acquire(`full-${i}`, { waitMs: 0 })).toBeUndefined();
      expect(instance.cache.lockStats().failed).toBe(3);
      expect(instance.cache.status().breaker).toBe('closed');
      await config({ maxmemory: '0' });
      const lease = await lock.acquire('full-0', { waitMs: 0 });
      expect(lease).toBeDefined();
      expect(await lease!.release()).toBe(true);
    }));
});

describe('DistributedLock with the memory backend', () => {
  it('is a process-local lock with the same API', async () => {
    const instance = await createCacheInstance(undefined, { prefix: uniquePrefix(), backend: 'memory' });
    try {
      const lock = instance.moduleRef.get(DistributedLock);
      const lease = await lock.acquire('job', { waitMs: 0 });
      expect(lease?.fencingToken).toBeGreaterThan(0);
      expect(await lock.acquire('job', { waitMs: 0 })).toBeUndefined();
      await lease!.release();
      expect(await lock.withLock('job', (l) => l.held)).toBe(true);
    } finally {
      await instance.close();
    }
  });
});
