import type { RedisConnection } from '@app/redis';
import { SharedCounters } from './shared-counters';

/** A Redis stand-in for the counters' MULTI (INCRBY, PEXPIRE NX, PTTL); `others` adds another instance's hits. */
function fakeRedis() {
  const values = new Map<string, number>();
  const state = { available: true, fail: false, calls: 0 };
  const client = {
    multi() {
      let key = '';
      let by = 0;
      let ttl = 0;
      const chain = {
        incrBy: (k: string, n: number) => ((key = k), (by = n), chain),
        pExpire: (_k: string, ms: number) => ((ttl = ms), chain),
        pTTL: () => chain,
        exec: () => {
          const total = (values.get(key) ?? 0) + by;
          values.set(key, total);
          return Promise.resolve([total, 1, ttl]);
        },
      };
      return chain;
    },
  };
  const redis = {
    enabled: true,
    get available() {
      return state.available;
    },
    run: <T>(operation: (c: typeof client) => Promise<T>) => {
      state.calls++;
      return state.fail ? Promise.reject(new Error('down')) : operation(client);
    },
  } as unknown as RedisConnection;
  return { redis, values, state };
}

describe(SharedCounters.name, () => {
  const counters: SharedCounters[] = [];
  afterEach(() => counters.splice(0).forEach((c) => c.stop()));
  const make = (redis?: RedisConnection) => {
    const c = new SharedCounters(redis, 60_000);
    counters.push(c);
    return c;
  };

  it('is exact on one instance and blocks past the limit', () => {
    const c = make();
    const hits = Array.from({ length: 4 }, () => c.hit('k', 'rk', 60_000, 3, 60_000));
    expect(hits.map((h) => h.isBlocked)).toEqual([false, false, false, true]);
    expect(hits[2]).toMatchObject({ totalHits: 3, timeToExpire: 60 });
    expect(hits[3].timeToBlockExpire).toBe(60);
  });

  it('adds its hits to the shared total in one call per sync, and counts the other instances’ hits from then on', async () => {
    const { redis, values, state } = fakeRedis();
    const c = make(redis);
    for (let i = 0; i < 5; i++) c.hit('k', 'rk', 60_000, 10, 60_000);
    expect(state.calls).toBe(0);
    values.set('rk', 4); // another instance's hits
    await c.sync();
    expect(state.calls).toBe(1);
    expect(values.get('rk')).toBe(9);
    expect(c.hit('k', 'rk', 60_000, 10, 60_000)).toMatchObject({ totalHits: 10, isBlocked: false });
    expect(c.hit('k', 'rk', 60_000, 10, 60_000).isBlocked).toBe(true);
    await c.sync(); // nothing new since but the blocked hit, which was sent
    expect(values.get('rk')).toBe(11);
  });

  it('keeps counts made while Redis fails and sends them once it answers', async () => {
    const { redis, values, state } = fakeRedis();
    const c = make(redis);
    c.hit('k', 'rk', 60_000, 100, 60_000);
    state.fail = true;
    await c.sync();
    c.hit('k', 'rk', 60_000, 100, 60_000);
    state.available = false;
    await c.sync(); // not even tried while the breaker is open
    expect(state.calls).toBe(1);
    state.fail = false;
    state.available = true;
    await c.sync();
    expect(values.get('rk')).toBe(2);
  });

  it('starts a new window after the old one ends, and forgets ended windows', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const c = make();
      c.hit('k', 'rk', 1_000, 1, 1_000);
      expect(c.hit('k', 'rk', 1_000, 1, 1_000).isBlocked).toBe(true);
      jest.advanceTimersByTime(1_001);
      expect(c.hit('k', 'rk', 1_000, 1, 1_000).isBlocked).toBe(false);
      jest.advanceTimersByTime(10_000);
      void c.sync(); // sweeps
      expect(c.size).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
