import { backoffMs, MemoryLoginCounters, type LoginKeys, type LoginLimitsMs } from './login-counters';

const LIMITS: LoginLimitsMs = {
  pairLimit: 3,
  pairTtlMs: 60_000,
  emailLimit: 5,
  emailTtlMs: 60_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 8_000,
};

const keys = (email: string, ip: string): LoginKeys => ({
  pair: `${email}:p:${ip}`,
  email: `${email}:f`,
  block: `${email}:b`,
});

describe(MemoryLoginCounters.name, () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('stops a pair after pairLimit failures until its window ends, without touching other addresses', () => {
    const c = new MemoryLoginCounters();
    const a = keys('owner', 'A');
    const admitted = Array.from({ length: 4 }, () => c.begin(a, LIMITS).allowed);
    expect(admitted).toEqual([true, true, true, false]);
    expect(c.begin(a, LIMITS)).toEqual({ allowed: false, retryAfterMs: 60_000 });
    // The owner, elsewhere, with the right password.
    const b = keys('owner', 'B');
    expect(c.begin(b, LIMITS).allowed).toBe(true);
    c.succeeded(b);
    jest.advanceTimersByTime(60_001);
    expect(c.begin(a, LIMITS).allowed).toBe(true);
  });

  it('resets the pair on a success, and gives the email its attempt back', () => {
    const c = new MemoryLoginCounters();
    const b = keys('owner', 'B');
    for (let i = 0; i < 2; i++) c.begin(b, LIMITS);
    expect(c.begin(b, LIMITS).allowed).toBe(true);
    c.succeeded(b);
    // Three more failures are allowed from B (the pair starts afresh).
    expect(Array.from({ length: 4 }, () => c.begin(b, LIMITS).allowed)).toEqual([true, true, true, false]);
  });

  it('backs the email off past emailLimit from any address, doubling per failure up to the ceiling', () => {
    const c = new MemoryLoginCounters();
    for (let i = 0; i < 4; i++) expect(c.begin(keys('target', `ip${i}`), LIMITS).allowed).toBe(true);
    // The fifth failure (the limit) starts the backoff: 1 s, then 2, 4, 8, 8 …
    const waits: number[] = [];
    for (let i = 4; i < 10; i++) {
      expect(c.begin(keys('target', `ip${i}`), LIMITS).allowed).toBe(true);
      const refused = c.begin(keys('target', `other${i}`), LIMITS);
      if (refused.allowed) throw new Error('expected a refusal during the backoff');
      waits.push(refused.retryAfterMs);
      jest.advanceTimersByTime(refused.retryAfterMs);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    // Other accounts are not affected.
    expect(c.begin(keys('someone-else', 'ip0'), LIMITS).allowed).toBe(true);
  });

  it('does not count refused attempts: a flood during the backoff does not lengthen it', () => {
    const c = new MemoryLoginCounters();
    for (let i = 0; i < 5; i++) c.begin(keys('target', `ip${i}`), LIMITS);
    for (let i = 0; i < 100; i++) expect(c.begin(keys('target', `flood${i}`), LIMITS).allowed).toBe(false);
    jest.advanceTimersByTime(1_000);
    expect(c.begin(keys('target', 'owner'), LIMITS).allowed).toBe(true);
  });

  it('gives back an attempt that ended without a verdict (released), on both counts', () => {
    const c = new MemoryLoginCounters();
    const a = keys('owner', 'A');
    for (let i = 0; i < 10; i++) {
      expect(c.begin(a, LIMITS).allowed).toBe(true);
      c.released(a);
    }
    expect(c.begin(a, LIMITS).allowed).toBe(true);
  });

  it('drops ended windows from memory', () => {
    const c = new MemoryLoginCounters();
    c.begin(keys('owner', 'A'), LIMITS);
    expect(c.size).toBe(2);
    jest.advanceTimersByTime(61_000);
    c.begin(keys('other', 'A'), LIMITS);
    expect(c.size).toBe(2);
  });
});

describe(backoffMs.name, () => {
  it('is zero below the limit, then doubles from the base to the ceiling, finite for any count', () => {
    expect([4, 5, 6, 7, 8, 9].map((n) => backoffMs(n, LIMITS))).toEqual([0, 1_000, 2_000, 4_000, 8_000, 8_000]);
    expect(backoffMs(Number.MAX_SAFE_INTEGER, { ...LIMITS, backoffMaxMs: 900_000 })).toBe(900_000);
  });
});
