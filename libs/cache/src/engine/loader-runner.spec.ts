import type { RedisConnection } from '@app/redis';
import { CacheUnavailableError } from '../cache.errors';
import { engineContext } from './engine-context.fixture';
import { EntryPreparer } from './entry-preparer';
import { Invalidator } from './invalidator';
import { LoaderRunner } from './loader-runner';
import { LocalTier } from './local-tier';
import { PeerState } from './peer-state';
import { RemoteTier } from './remote-tier';

/** The parts of a memory-only engine (the remote tier is its null object). */
function memoryEngine() {
  const ctx = engineContext({ defaultTtlMs: 60_000 });
  const peers = new PeerState();
  const remote = new RemoteTier(ctx, peers);
  const hooks = { released: () => undefined, startProbe: () => undefined };
  const invalidator = new Invalidator(ctx, remote, undefined, hooks, peers);
  const local = new LocalTier(ctx, invalidator);
  const preparer = new EntryPreparer(ctx);
  const runner = new LoaderRunner(ctx, local, remote, invalidator, preparer, undefined);
  return { ctx, remote, invalidator, runner, key: (k: string) => ctx.keys.entry('ns', k) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe(LoaderRunner.name, () => {
  it('runs one loader for concurrent misses of a key, and serves the stored value after', async () => {
    const { runner, key } = memoryEngine();
    const loader = jest.fn(async () => {
      await tick();
      return 'loaded';
    });
    const values = await Promise.all([1, 2, 3].map(() => runner.getOrSet('ns', key('a'), loader, {})));
    expect(values).toEqual(['loaded', 'loaded', 'loaded']);
    expect(await runner.getOrSet('ns', key('a'), () => 'again', {})).toBe('loaded');
    expect(loader).toHaveBeenCalledTimes(1);
  });

  it('returns a value `cacheable` refuses without storing it', async () => {
    const { runner, ctx, key } = memoryEngine();
    expect(await runner.getOrSet('ns', key('a'), () => null, { cacheable: (v) => v !== null })).toBeNull();
    expect(ctx.l1.peek(key('a'))).toBeUndefined();
  });

  it('does not store a value loaded across a delete of its key (it may predate the delete)', async () => {
    const { runner, invalidator, ctx, key } = memoryEngine();
    const value = await runner.getOrSet(
      'ns',
      key('a'),
      async () => {
        await invalidator.delete('ns', [key('a')]);
        return 'before the delete';
      },
      {},
    );
    expect(value).toBe('before the delete');
    expect(ctx.l1.peek(key('a'))).toBeUndefined();
  });

  it('gives a caller that joins a load after an invalidation of its tags a new load, not what predates it', async () => {
    const { runner, invalidator, ctx, key } = memoryEngine();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const old = jest.fn(async () => {
      await held;
      return 'before the write';
    });
    const first = runner.getOrSet('ns', key('a'), old, { tags: ['t'] });
    const concurrent = runner.getOrSet('ns', key('a'), () => 'unused', { tags: ['t'] });
    await tick();
    expect(old).toHaveBeenCalledTimes(1);
    // A write commits and invalidates while the first load is held: whoever asks now came after it.
    await invalidator.invalidateTags(['t']);
    const after = runner.getOrSet('ns', key('a'), () => 'after the write', { tags: ['t'] });
    release();
    expect(await first).toBe('before the write');
    expect(await concurrent).toBe('before the write');
    expect(await after).toBe('after the write');
    expect(ctx.l1.peek(key('a'))?.value).toBe('after the write');
  });

  it('judges a load by the tags its value names (a function of the value) when a later caller joins it', async () => {
    const { runner, invalidator, key } = memoryEngine();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tags = () => ['dep'];
    const first = runner.getOrSet('ns', key('a'), () => held.then(() => 'before the write'), { tags });
    await tick();
    await invalidator.invalidateTags(['dep']);
    const after = runner.getOrSet('ns', key('a'), () => 'after the write', { tags });
    release();
    expect(await first).toBe('before the write');
    expect(await after).toBe('after the write');
  });

  it('lets a caller join a load when only other keys were invalidated meanwhile', async () => {
    const { runner, invalidator, key } = memoryEngine();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = runner.getOrSet('ns', key('a'), () => held.then(() => 'loaded'), { tags: ['t'] });
    await tick();
    await invalidator.invalidateTags(['other']);
    const again = jest.fn(() => 'again');
    const after = runner.getOrSet('ns', key('a'), again, { tags: ['t'] });
    release();
    expect([await first, await after]).toEqual(['loaded', 'loaded']);
    expect(again).not.toHaveBeenCalled();
  });

  it('falls back to an expired entry within grace when the loader fails, and not past it', async () => {
    const { runner, ctx, key } = memoryEngine();
    const now = Date.now();
    ctx.l1.set(
      key('a'),
      { value: 'stale', expiresAt: now - 1, graceUntil: now + 60_000, tags: ['ns.ns'], ttlMs: 1 },
      1,
    );
    ctx.l1.set(key('b'), { value: 'gone', expiresAt: now - 10, graceUntil: now - 5, tags: ['ns.ns'], ttlMs: 1 }, 1);
    const failing = () => Promise.reject(new Error('db down'));
    expect(await runner.getOrSet('ns', key('a'), failing, {})).toBe('stale');
    await expect(runner.getOrSet('ns', key('b'), failing, {})).rejects.toThrow('db down');
    expect(ctx.stats.snapshot().ns.l1.staleHits).toBe(1);
  });

  it('answers a hit near expiry at once and reloads it in the background (refresh-ahead)', async () => {
    const { runner, ctx, key } = memoryEngine();
    const now = Date.now();
    ctx.l1.set(
      key('a'),
      { value: 'old', expiresAt: now + 100, graceUntil: now + 100, tags: ['ns.ns'], ttlMs: 10_000 },
      1,
    );
    expect(await runner.getOrSet('ns', key('a'), () => 'new', { refreshAhead: 0.5 })).toBe('old');
    await tick();
    expect(ctx.l1.peek(key('a'))?.value).toBe('new');
  });
});

describe(RemoteTier.name, () => {
  it('is a null object without Redis: no reads, no Redis calls, a clear error for CACHE_MANAGER', async () => {
    const remote = new RemoteTier(engineContext(), new PeerState());
    expect([remote.configured, remote.available, remote.breakerState]).toEqual([false, false, 'disabled']);
    expect(await remote.read('ns', 'k')).toBeUndefined();
    expect(await remote.readMany('ns', ['k'])).toBeUndefined();
    expect(await remote.inspect('k')).toBeNull();
    await expect(remote.runOnRedis(() => Promise.resolve(1))).rejects.toThrow(CacheUnavailableError);
  });

  it('counts failing reads, opens the breaker after the threshold, then stops calling Redis', async () => {
    const ctx = engineContext({ backend: 'auto', breakerThreshold: 3 });
    const run = jest.fn(() => Promise.reject(new Error('Redis down')));
    const redis = { enabled: true, run } as unknown as RedisConnection;
    const remote = new RemoteTier(ctx, new PeerState(), redis);
    for (let i = 0; i < 3; i++) expect(await remote.read('ns', ctx.keys.entry('ns', `k${i}`))).toBeUndefined();
    expect(remote.breakerState).toBe('open');
    const calls = run.mock.calls.length;
    expect(await remote.read('ns', ctx.keys.entry('ns', 'k'))).toBeUndefined();
    expect(run.mock.calls.length).toBe(calls);
    expect(ctx.stats.snapshot().ns.l2.errors).toBe(3);
  });
});
