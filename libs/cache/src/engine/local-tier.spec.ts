import type { L1Entry } from '../cache-entry';
import { engineContext } from './engine-context.fixture';
import { LocalTier, type L1Trust } from './local-tier';

describe(LocalTier.name, () => {
  const entry = (ttlMs: number, graceMs = 0): L1Entry => ({
    value: 'v',
    expiresAt: Date.now() + ttlMs,
    graceUntil: Date.now() + ttlMs + graceMs,
    tags: ['ns.ns'],
    ttlMs: Math.abs(ttlMs),
  });
  const setup = (barrier: 'passes' | 'fails' = 'passes') => {
    const ctx = engineContext();
    const trust = {
      needsBarrier: jest.fn(() => true),
      passBarrier: jest.fn(() => Promise.resolve(barrier === 'passes')),
    } satisfies L1Trust;
    return { ctx, trust, local: new LocalTier(ctx, trust) };
  };

  it('serves a fresh entry and counts hits and misses, an expired entry being a miss', () => {
    const { ctx, local } = setup();
    ctx.l1.set('a', entry(10_000), 1);
    ctx.l1.set('b', entry(-1, 10_000), 1);
    expect(local.fresh('ns', 'a')?.value).toBe('v');
    expect(local.fresh('ns', 'b')).toBeUndefined();
    expect(local.fresh('ns', 'c')).toBeUndefined();
    expect(ctx.stats.snapshot().ns.l1).toMatchObject({ hits: 1, misses: 2 });
  });

  it('waits for the barrier only for an entry it holds, and serves it once the barrier passed', async () => {
    const { ctx, trust, local } = setup();
    expect(await local.heard('ns', 'none')).toBeUndefined();
    expect(trust.passBarrier).not.toHaveBeenCalled();
    ctx.l1.set('a', entry(10_000), 1);
    expect((await local.heard('ns', 'a'))?.value).toBe('v');
    expect(trust.passBarrier).toHaveBeenCalledTimes(1);
  });

  it('does not serve an entry it cannot prove current (the barrier failed): a miss', async () => {
    const { ctx, local } = setup('fails');
    ctx.l1.set('a', entry(10_000), 1);
    expect(await local.heard('ns', 'a')).toBeUndefined();
    expect(ctx.stats.snapshot().ns.l1.misses).toBe(1);
  });

  it('reads several keys behind one barrier, and none when L1 holds none of them', async () => {
    const { ctx, trust, local } = setup();
    expect(await local.readMany('ns', ['x', 'y'])).toEqual([undefined, undefined]);
    expect(trust.passBarrier).not.toHaveBeenCalled();
    ctx.l1.set('a', entry(10_000), 1);
    expect((await local.readMany('ns', ['a', 'y'])).map((e) => e?.value)).toEqual(['v', undefined]);
    expect(trust.passBarrier).toHaveBeenCalledTimes(1);
  });

  it('offers an expired entry within its grace window, and not after it', () => {
    const { ctx, local } = setup();
    ctx.l1.set('in', entry(-1, 10_000), 1);
    ctx.l1.set('out', entry(-10, 5), 1);
    expect(local.withinGrace('in')?.value).toBe('v');
    expect(local.withinGrace('out')).toBeUndefined();
  });
});
