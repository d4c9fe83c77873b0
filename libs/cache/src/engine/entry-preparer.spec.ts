import { CacheArgumentError, CacheSerializationError } from '../cache.errors';
import { engineContext } from './engine-context.fixture';
import { EntryPreparer, UNGUARDED } from './entry-preparer';

describe(EntryPreparer.name, () => {
  const ctx = engineContext({ defaultTtlMs: 60_000, defaultGraceMs: 5_000, maxTtlMs: 100_000, maxEntryBytes: 64 });
  const preparer = new EntryPreparer(ctx);

  it('resolves TTL, grace and tags once, for both tiers', () => {
    const { write, bytes, value } = preparer.prepare('users', 'bp:c:users:1', { n: 1 }, { tags: ['a b'] }, UNGUARDED);
    expect(value).toEqual({ n: 1 });
    expect(write).toMatchObject({ key: 'bp:c:users:1', ttlMs: 60_000, graceMs: 5_000, notBefore: 0, schema: '1' });
    // The namespace's implicit tag first, then the caller's, made safe for a Redis key.
    expect(write.tags[0]).toBe('ns.users');
    expect(write.tags).toHaveLength(2);
    expect(write.tags[1]).not.toContain(' ');
    expect(bytes).toBe(Buffer.byteLength(write.payload));
  });

  it('caps TTL plus grace at maxTtlMs, so no entry outlives its tag markers', () => {
    const { write } = preparer.prepare('ns', 'k', 1, { ttl: 90_000, grace: 50_000 }, UNGUARDED);
    expect(write.ttlMs + write.graceMs).toBeLessThanOrEqual(100_000);
  });

  it('calls value-dependent TTL and tags with the value', () => {
    const { write } = preparer.prepare('ns', 'k', 7, { ttl: (v) => v * 1000, tags: (v) => [`n${v}`] }, UNGUARDED);
    expect(write.ttlMs).toBe(7_000);
    expect(write.tags).toEqual(['ns.ns', 'n7']);
  });

  it('refuses an empty tag and a value over maxEntryBytes before anything is stored', () => {
    expect(() => preparer.prepare('ns', 'k', 1, { tags: [''] }, UNGUARDED)).toThrow(CacheArgumentError);
    expect(() => preparer.prepare('ns', 'k', 'x'.repeat(100), {}, UNGUARDED)).toThrow(CacheSerializationError);
    expect(ctx.l1.size).toBe(0);
  });

  it('keeps a prepared write in L1 with its deadlines, counted as an L1 set', () => {
    const before = Date.now();
    preparer.keepInL1('ns', preparer.prepare('ns', 'bp:c:ns:k', 'v', { ttl: 1_000, grace: 500 }, UNGUARDED));
    const entry = ctx.l1.peek('bp:c:ns:k')!;
    expect(entry.value).toBe('v');
    expect(entry.expiresAt - before).toBeGreaterThanOrEqual(1_000);
    expect(entry.graceUntil - entry.expiresAt).toBe(500);
    expect(ctx.stats.snapshot().ns.l1.sets).toBe(1);
  });

  it('says which TTL a read declares: the default, a number, or none when it depends on the value', () => {
    expect(preparer.declaredTtl(undefined)).toBe(60_000);
    expect(preparer.declaredTtl(5)).toBe(5);
    expect(preparer.declaredTtl(() => 5)).toBeUndefined();
  });
});
