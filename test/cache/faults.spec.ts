import { createCacheInstance, uniquePrefix, type CacheInstance } from '../support/cache-instance';
import { waitFor } from '../support/free-port';
import { TestRedisServer } from '../support/redis-server';

/** The deadline is 200 ms (see createCacheInstance); this is "not hanging" with slack for a busy CI machine. */
const HANG_LIMIT_MS = 1_000;

/** Keys never read before, across every traffic run of this file. */
let coldKeys = 0;

/**
 * Runs cached reads for `ms`, alternating a warm key (in L1 after the first
 * round) and a key never seen before (an L1 miss, then L2, then the loader).
 * Returns the slowest call, the failures, and for the misses how many calls
 * ran while `outage.on` and how many of them the loader answered; `breakerOpened`
 * tells whether the status showed the breaker open at any point.
 */
async function traffic(instance: CacheInstance, ms: number, outage = { on: false }) {
  const ns = instance.cache.namespace('traffic');
  const result = { slowest: 0, failures: 0, calls: 0, outageMisses: 0, outageLoads: 0, breakerOpened: false };
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const warm = result.calls % 2 === 0;
    const key = warm ? `warm${result.calls % 20}` : `cold${coldKeys++}`;
    const during = outage.on;
    let loaded = false;
    const started = performance.now();
    try {
      const value = await ns.getOrSet(key, () => ((loaded = true), { key }));
      if (value.key !== key) result.failures++;
    } catch {
      result.failures++;
    }
    result.slowest = Math.max(result.slowest, performance.now() - started);
    if (!warm && during) {
      result.outageMisses++;
      if (loaded) result.outageLoads++;
    }
    if (instance.cache.status().breaker === 'open') result.breakerOpened = true;
    result.calls++;
    // Requests arrive through I/O: let the event loop run between them (an
    // L1 hit resolves in microtasks only and would otherwise starve timers).
    await new Promise((r) => setImmediate(r));
  }
  return result;
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
    const outage = { on: false };
    const during = traffic(instance, 1_500, outage);
    await new Promise((r) => setTimeout(r, 300));
    await server.kill();
    outage.on = true;
    const result = await during;
    expect(result.failures).toBe(0);
    expect(result.slowest).toBeLessThan(HANG_LIMIT_MS);
    // Misses kept coming while Redis was gone, and the loader answered each one.
    expect(result.outageMisses).toBeGreaterThan(10);
    expect(result.outageLoads).toBe(result.outageMisses);
    expect(result.breakerOpened).toBe(true);
    expect(instance.cache.status()).toMatchObject({ usingRedis: false, breaker: 'open' });
    await server.restart();
    await expectBackOnRedisWithin5s();
  });

  it('treats a paused Redis (SIGSTOP) as down: no call waits past the deadline, and SIGCONT brings it back', async () => {
    await traffic(instance, 200);
    const outage = { on: false };
    const during = traffic(instance, 1_500, outage);
    await new Promise((r) => setTimeout(r, 300));
    server.pause();
    outage.on = true;
    let result;
    try {
      result = await during;
      // Read while still paused: the breaker opened on deadlines alone (no connection error).
      expect(instance.cache.status()).toMatchObject({ usingRedis: false, breaker: 'open' });
    } finally {
      server.resume();
    }
    expect(result.failures).toBe(0);
    expect(result.slowest).toBeLessThan(HANG_LIMIT_MS);
    expect(result.outageMisses).toBeGreaterThan(10);
    expect(result.outageLoads).toBe(result.outageMisses);
    expect(result.breakerOpened).toBe(true);
    expect(instance.cache.stats().traffic.l2.errors).toBeGreaterThanOrEqual(3);
    await expectBackOnRedisWithin5s();
  });

  it('makes a miss during a pause wait one deadline, not a read deadline and then a write deadline', async () => {
    // A long deadline so that one deadline and two are far apart on a busy machine.
    const slow = await createCacheInstance(
      server.url,
      { prefix: uniquePrefix(), breakerThreshold: 10 },
      { commandTimeoutMs: 600 },
    );
    const ns = slow.cache.namespace('paused');
    server.pause();
    try {
      for (const [key, options] of [
        ['k', {}],
        ['locked', { lockAcrossInstances: true }],
      ] as const) {
        const started = performance.now();
        expect(await ns.getOrSet(key, () => `loaded ${key}`, options)).toBe(`loaded ${key}`);
        expect(performance.now() - started).toBeLessThan(2 * 600);
      }
      // One failed L2 call per getOrSet: the read. No write, no lease attempt.
      expect(slow.cache.stats().paused.l2.errors).toBe(2);
      expect(slow.cache.status().breaker).toBe('closed');
      expect(await ns.get('k')).toBe('loaded k'); // kept in L1
    } finally {
      server.resume();
    }
    try {
      // Commands run in order on the connection: a write queued during the pause would land before this.
      const keys = [slow.cache.redisKey('paused', 'k'), slow.cache.redisKey('paused', 'locked')];
      expect(await slow.redis.run((c) => c.exists(keys))).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it('keeps instances in agreement after an mset whose L2 write timed out and landed late', async () => {
    const prefix = instance.cache.redisKey('x', 'y').split(':')[0];
    const other = await createCacheInstance(server.url, { prefix });
    try {
      const mine = instance.cache.namespace('ms');
      const theirs = other.cache.namespace('ms');
      await mine.mset([
        { key: 'a', value: 'old' },
        { key: 'b', value: 'old' },
      ]);
      expect(await theirs.mget(['a', 'b'])).toEqual(['old', 'old']); // in the other instance's L1
      const received = other.cache.status().bus.received;
      server.pause();
      try {
        // Fails open after one deadline; the script waits in the paused server's socket buffer.
        await mine.mset([
          { key: 'a', value: 'new' },
          { key: 'b', value: 'new' },
        ]);
        expect(instance.cache.stats().ms.l2.errors).toBe(1);
        // Neither the new values nor the old copies stay in this L1.
        expect(instance.cache.status()).toMatchObject({ breaker: 'closed', l1: { entries: 0 } });
      } finally {
        server.resume(); // the late write lands: L2 now holds 'new' while the other L1 holds 'old'
      }
      // The queued deletes are replayed (tombstones and the bus) without the breaker having opened.
      await waitFor(() => other.cache.status().bus.received > received, 3_000, 'the replayed deletes');
      expect(await mine.mget(['a', 'b'])).toEqual([undefined, undefined]);
      expect(await theirs.mget(['a', 'b'])).toEqual([undefined, undefined]);
    } finally {
      await other.close();
    }
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
