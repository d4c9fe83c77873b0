import { createCacheInstance, uniquePrefix, type CacheInstance } from '../support/cache-instance';
import { waitFor } from '../support/free-port';
import { TestRedisServer } from '../support/redis-server';

/** The deadline is 200 ms (see createCacheInstance); this is "not hanging" with slack for a busy CI machine. */
const HANG_LIMIT_MS = 1_000;

/** Runs cached reads for `ms`; returns the slowest call and how many failed. */
async function traffic(instance: CacheInstance, ms: number) {
  const ns = instance.cache.namespace('traffic');
  let slowest = 0;
  let failures = 0;
  let calls = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const started = performance.now();
    try {
      const value = await ns.getOrSet(`k${calls % 20}`, () => ({ n: calls % 20 }));
      if (value.n !== calls % 20) failures++;
    } catch {
      failures++;
    }
    slowest = Math.max(slowest, performance.now() - started);
    calls++;
    // Requests arrive through I/O: let the event loop run between them (an
    // L1 hit resolves in microtasks only and would otherwise starve timers).
    await new Promise((r) => setImmediate(r));
  }
  return { slowest, failures, calls };
}

describe('Redis failures under load', () => {
  let server: TestRedisServer;
  let instance: CacheInstance;

  beforeEach(async () => {
    server = await TestRedisServer.start();
    instance = await createCacheInstance(server.url, { prefix: uniquePrefix() });
  });

  afterEach(async () => {
    await instance?.close();
    await server?.stop();
  });

  const expectBackOnRedisWithin5s = async () => {
    await waitFor(() => instance.cache.status().usingRedis, 5_000, 'the breaker to close');
    const before = instance.cache.stats().probe?.l2.sets ?? 0;
    await instance.cache.namespace('probe').set('k', 'v');
    expect(instance.cache.stats().probe.l2.sets).toBe(before + 1);
  };

  it('keeps answering from L1 and the loader when Redis is killed, and returns to Redis when it restarts', async () => {
    await traffic(instance, 200);
    expect(instance.cache.status()).toMatchObject({ usingRedis: true, breaker: 'closed' });
    const during = traffic(instance, 1_500);
    await new Promise((r) => setTimeout(r, 300));
    await server.kill();
    const result = await during;
    expect(result.failures).toBe(0);
    expect(result.slowest).toBeLessThan(HANG_LIMIT_MS);
    expect(instance.cache.status()).toMatchObject({ usingRedis: false, breaker: 'open' });
    await server.restart();
    await expectBackOnRedisWithin5s();
  });

  it('treats a paused Redis (SIGSTOP) as down: no call waits past the deadline, and SIGCONT brings it back', async () => {
    await traffic(instance, 200);
    const during = traffic(instance, 1_500);
    await new Promise((r) => setTimeout(r, 300));
    server.pause();
    let result;
    try {
      result = await during;
    } finally {
      server.resume();
    }
    expect(result.failures).toBe(0);
    expect(result.slowest).toBeLessThan(HANG_LIMIT_MS);
    await expectBackOnRedisWithin5s();
  });

  it('drops L1 on reconnect and replays invalidations made while Redis was down', async () => {
    const prefix = instance.cache.redisKey('x', 'y').split(':')[0];
    const other = await createCacheInstance(server.url, { prefix });
    try {
      const mine = instance.cache.namespace('rc');
      await mine.set('kept', 'v1');
      await mine.set('deleted', 'v1');
      await server.kill();
      await waitFor(() => !instance.cache.status().usingRedis, 2_000, 'the breaker to open');
      await mine.delete('deleted'); // Redis is down: queued
      expect(await mine.get('kept')).toBe('v1'); // still served from L1
      await server.restart();
      await waitFor(() => instance.cache.status().usingRedis, 5_000, 'the breaker to close');
      expect(instance.cache.status().l1.entries).toBe(0);
      // The server restarted empty, so L2 lost 'kept'; the replayed delete must reach the other instance's view too.
      expect(await other.cache.namespace('rc').get('deleted')).toBeUndefined();
    } finally {
      await other.close();
    }
  });
});

describe('backend selection', () => {
  it('opens no Redis traffic in memory mode', async () => {
    const server = await TestRedisServer.start();
    const memory = await createCacheInstance(server.url, { prefix: uniquePrefix(), backend: 'memory' });
    try {
      await memory.cache.set('k', 'v');
      expect(await memory.cache.get('k')).toBe('v');
      expect(memory.cache.status()).toMatchObject({ backend: 'memory', usingRedis: false, breaker: 'disabled' });
      const keys = await memory.redis.run((c) => c.dbSize());
      expect(keys).toBe(0);
    } finally {
      await memory.close();
      await server.stop();
    }
  });

  it('fails at boot when the backend is redis and Redis is down', async () => {
    const server = await TestRedisServer.start();
    await server.kill();
    await expect(createCacheInstance(server.url, { backend: 'redis' }, { required: true })).rejects.toMatchObject({
      code: 'E_REDIS_UNAVAILABLE',
    });
  });
});
