import { CacheArgumentError } from './cache.errors';
import { resolveGrace, resolveTtl } from './ttl';

const defaults = { ttlMs: 1_000, jitter: 0, maxMs: 10_000 };

describe(resolveTtl.name, () => {
  afterEach(() => jest.restoreAllMocks());

  it('uses the default TTL when none is given', () => {
    expect(resolveTtl(undefined, 'v', defaults)).toBe(1_000);
  });

  it('uses a given number over the default', () => {
    expect(resolveTtl(250, 'v', defaults)).toBe(250);
  });

  it('calls a TTL function with the value', () => {
    const ttl = jest.fn((value: { fresh: boolean }) => (value.fresh ? 5_000 : 100));
    expect(resolveTtl(ttl, { fresh: true }, defaults)).toBe(5_000);
    expect(resolveTtl(ttl, { fresh: false }, defaults)).toBe(100);
    expect(ttl).toHaveBeenCalledWith({ fresh: true });
  });

  it('caps the TTL at maxMs', () => {
    expect(resolveTtl(60_000, 'v', defaults)).toBe(10_000);
    expect(resolveTtl(() => 60_000, 'v', defaults)).toBe(10_000);
  });

  it('shortens by at most the jitter fraction, never lengthens', () => {
    const jittered = { ...defaults, jitter: 0.1 };
    jest.spyOn(Math, 'random').mockReturnValue(0);
    expect(resolveTtl(1_000, 'v', jittered)).toBe(1_000);
    jest.spyOn(Math, 'random').mockReturnValue(0.999_999);
    expect(resolveTtl(1_000, 'v', jittered)).toBe(900);
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    expect(resolveTtl(1_000, 'v', jittered)).toBe(950);
  });

  it('stays within [ttl × (1 - jitter), ttl] with the real random source', () => {
    for (let i = 0; i < 1_000; i++) {
      const ttl = resolveTtl(10_000, 'v', { ttlMs: 1, jitter: 0.2, maxMs: 100_000 });
      expect(ttl).toBeGreaterThanOrEqual(8_000);
      expect(ttl).toBeLessThanOrEqual(10_000);
    }
  });

  it('applies the jitter after the cap, so the result never exceeds maxMs', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    expect(resolveTtl(60_000, 'v', { ...defaults, jitter: 0.1 })).toBe(9_500);
  });

  it('never returns less than 1 ms', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.999_999);
    expect(resolveTtl(0.4, 'v', { ...defaults, jitter: 1 })).toBe(1);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a TTL of %p', (bad) => {
    expect(() => resolveTtl(bad, 'v', defaults)).toThrow(CacheArgumentError);
    expect(() => resolveTtl(() => bad, 'v', defaults)).toThrow(CacheArgumentError);
  });

  it('refuses a default TTL that is not positive', () => {
    expect(() => resolveTtl(undefined, 'v', { ...defaults, ttlMs: 0 })).toThrow(CacheArgumentError);
  });

  it.each([-0.5, 1.5, Number.NaN])(
    'refuses a jitter of %p (outside 0..1), which would break the maxMs bound',
    (jitter) => {
      jest.spyOn(Math, 'random').mockReturnValue(0.5);
      expect(() => resolveTtl(10_000, 'v', { ...defaults, jitter })).toThrow(CacheArgumentError);
    },
  );
});

describe(resolveGrace.name, () => {
  it('uses the given grace, else the fallback', () => {
    expect(resolveGrace(500, 100, 1_000, 10_000)).toBe(500);
    expect(resolveGrace(undefined, 100, 1_000, 10_000)).toBe(100);
    expect(resolveGrace(0, 100, 1_000, 10_000)).toBe(0);
  });

  it('caps TTL + grace at maxMs', () => {
    expect(resolveGrace(5_000, 0, 8_000, 10_000)).toBe(2_000);
    expect(resolveGrace(5_000, 0, 10_000, 10_000)).toBe(0);
  });

  it('gives no grace, rather than a negative one, when the TTL alone reaches maxMs', () => {
    expect(resolveGrace(5_000, 0, 12_000, 10_000)).toBe(0);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a grace of %p', (bad) => {
    expect(() => resolveGrace(bad, 0, 1_000, 10_000)).toThrow(CacheArgumentError);
    expect(() => resolveGrace(undefined, bad, 1_000, 10_000)).toThrow(CacheArgumentError);
  });
});
