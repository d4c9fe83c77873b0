import type { RedisConnection } from '@app/redis';
import { SharedCounters } from './shared-counters';

/**
 * A Redis stand-in running the sync script's logic (see `SYNC_SCRIPT`) on
 * window hashes; `values` holds each window's shared total (setting it plays
 * another instance's hits). The script itself runs on a real Redis in
 * `test/auth/rate-limit-sharing.spec.ts`.
 */
function fakeRedis() {
  const windows = new Map<string, Map<string, number>>();
  const values = {
    get: (key: string) => windows.get(key)?.get('n'),
    set: (key: string, n: number) => hash(key).set('n', n),
    /** Redis lost every key (restarted empty, flushed, or a failover to a replica without them). */
    lose: () => windows.clear(),
  };
  const state = { available: true, fail: false, calls: 0 };
  const hash = (key: string) => {
    let h = windows.get(key);
    if (!h) windows.set(key, (h = new Map()));
    return h;
  };
  const client = {
    sendCommand([command, , , key, field, hits, ttl, acked]: string[]) {
      expect(command).toBe('EVALSHA');
      const h = hash(key);
      const before = h.get(field) ?? Number(acked);
      if (Number(hits) > before) {
        h.set('n', (h.get('n') ?? 0) + Number(hits) - before);
        h.set(field, Number(hits));
      }
      const reply = [h.get('n') ?? 0, Number(ttl)];
      return Promise.resolve(reply);
    },
  };
  const redis = {
    enabled: true,
    commandTimeoutMs: 500,
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
  afterEach(() => Promise.all(counters.splice(0).map((c) => c.close())));
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

  it('gives a window Redis lost mid-window (restarted empty) every hit it counted, not only the unsent ones', async () => {
    const { redis, values } = fakeRedis();
    const a = make(redis);
    const b = make(redis);
    for (let i = 0; i < 6; i++) a.hit('k', 'rk', 60_000, 10, 60_000);
    for (let i = 0; i < 3; i++) b.hit('k', 'rk', 60_000, 10, 60_000);
    await a.sync();
    await b.sync();
    expect(values.get('rk')).toBe(9);
    values.lose();
    a.hit('k', 'rk', 60_000, 10, 60_000);
    await a.sync();
    // A sends its whole count (7); B's next sync puts its 3 back too.
    expect(values.get('rk')).toBe(7);
    b.hit('k', 'rk', 60_000, 10, 60_000);
    await b.sync();
    expect(values.get('rk')).toBe(11);
    // 11 of 10 in this window, as B read back: its next hit is over the limit, as it would be without the loss.
    expect(b.hit('k', 'rk', 60_000, 10, 60_000)).toMatchObject({ isBlocked: true, totalHits: 12 });
  });

  it('adds only the hits since its last sync when its window is about to end (Redis may have ended it first)', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const { redis, values } = fakeRedis();
      const c = make(redis);
      for (let i = 0; i < 4; i++) c.hit('k', 'rk', 60_000, 10, 60_000);
      await c.sync();
      // Within two command deadlines of its end here, Redis's copy may already have expired.
      jest.advanceTimersByTime(59_200);
      values.lose();
      for (let i = 0; i < 2; i++) c.hit('k', 'rk', 60_000, 10, 60_000);
      await c.sync();
      expect(values.get('rk')).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  describe('close', () => {
    it('sends the hits not yet shared, after waiting for a sync in flight', async () => {
      const { redis, values, state } = fakeRedis();
      const c = make(redis);
      c.hit('k', 'rk', 60_000, 100, 60_000);
      const inFlight = c.sync();
      c.hit('k', 'rk', 60_000, 100, 60_000);
      c.hit('other', 'rk2', 60_000, 100, 60_000);
      await c.close();
      await inFlight;
      expect({ k: values.get('rk'), other: values.get('rk2'), calls: state.calls }).toEqual({
        k: 2,
        other: 1,
        calls: 2,
      });
    });

    it('sends a backlog larger than one batch', async () => {
      const { redis, values } = fakeRedis();
      const c = make(redis);
      for (let i = 0; i < 5_003; i++) c.hit(`k${i}`, `rk${i}`, 60_000, 100, 60_000);
      await c.close();
      expect([values.get('rk0'), values.get('rk5002')]).toEqual([1, 1]);
    });

    it('returns after one failed attempt, and sends nothing with the breaker open', async () => {
      const { redis, state } = fakeRedis();
      const failing = make(redis);
      failing.hit('k', 'rk', 60_000, 100, 60_000);
      state.fail = true;
      await failing.close();
      expect(state.calls).toBe(1);
      state.available = false;
      const open = make(redis);
      open.hit('k', 'rk', 60_000, 100, 60_000);
      await open.close();
      expect(state.calls).toBe(1);
    });
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
