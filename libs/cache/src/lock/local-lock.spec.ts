import { CacheStats } from '../cache-stats';
import { CacheArgumentError, CacheLockError } from '../cache.errors';
import { LocalLock } from './local-lock';

const lockWith = (pollMs = 10_000) => {
  const stats = new CacheStats();
  return { stats, lock: new LocalLock(stats, { ttlMs: 1_000, waitMs: 0, pollMs }) };
};

describe(LocalLock.name, () => {
  it('gives a name to one owner at a time, with increasing fencing tokens', async () => {
    const { lock, stats } = lockWith();
    const first = await lock.acquire('job');
    expect(first?.held).toBe(true);
    expect(await lock.acquire('job')).toBeUndefined();
    expect((await lock.attempt('job')).reason).toBe('busy');
    const other = await lock.acquire('other job');
    expect(other).toBeDefined();
    expect(await first!.release()).toBe(true);
    expect(first!.held).toBe(false);
    expect(await first!.release()).toBe(false);
    const second = await lock.acquire('job');
    expect(second!.fencingToken).toBeGreaterThan(first!.fencingToken);
    expect(second!.fencingToken).toBeGreaterThan(other!.fencingToken);
    expect(stats.lockSnapshot()).toMatchObject({ acquired: 3, busy: 1 });
  });

  it('wakes a waiter on release, long before its poll interval', async () => {
    const { lock } = lockWith(60_000);
    const holder = await lock.acquire('job');
    const started = Date.now();
    const waiting = lock.acquire('job', { waitMs: 30_000 });
    setTimeout(() => void holder!.release(), 50);
    const lease = await waiting;
    expect(lease?.held).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up at the wait deadline', async () => {
    const { lock, stats } = lockWith(20);
    await lock.acquire('job');
    const started = Date.now();
    expect(await lock.acquire('job', { waitMs: 150 })).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(stats.lockSnapshot().busy).toBe(1);
  });

  it('withLock runs the function holding the lock, releases it after, and throws CacheLockError when busy', async () => {
    const { lock } = lockWith();
    const result = await lock.withLock('job', async (lease) => {
      expect(lease.held).toBe(true);
      await expect(lock.withLock('job', () => 'inner')).rejects.toMatchObject({
        code: 'E_CACHE_LOCK_NOT_ACQUIRED',
        reason: 'busy',
      });
      return 'outer';
    });
    expect(result).toBe('outer');
    await expect(lock.withLock('job', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await lock.acquire('job')).toBeDefined(); // released after the failure too
    await expect(lock.withLock('job', () => 'x')).rejects.toBeInstanceOf(CacheLockError);
  });

  it('stops waiting when the signal aborts, with its reason', async () => {
    const { lock } = lockWith();
    await lock.acquire('job');
    const controller = new AbortController();
    const waiting = lock.acquire('job', { waitMs: 30_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('shutting down')), 20);
    await expect(waiting).rejects.toThrow('shutting down');
  });

  it('refuses bad names and times', async () => {
    const { lock } = lockWith();
    await expect(lock.acquire('')).rejects.toBeInstanceOf(CacheArgumentError);
    await expect(lock.acquire('job', { ttlMs: 1 })).rejects.toBeInstanceOf(CacheArgumentError);
    await expect(lock.acquire('job', { waitMs: -1 })).rejects.toBeInstanceOf(CacheArgumentError);
  });
});
