import fc from 'fast-check';
import { startCacheCluster, type CacheCluster, type CacheInstance } from '../support/cache-instance';

/** Values with the types the serializer promises to keep, in any nesting. */
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.string(),
    fc.double(), // NaN, ±Infinity and -0 included
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.bigInt(),
    fc.date({ noInvalidDate: true }),
    fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)),
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 4 }),
    // Keys the format itself uses ('$t', 'v') must come back as plain keys.
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('$t', 'v')), tie('node'), {
      maxKeys: 4,
      noNullPrototype: true,
    }),
    fc.array(tie('node'), { maxLength: 4 }).map((items) => new Set(items)),
    // Map keys of any type: numbers, objects, Dates, undefined...
    fc.array(fc.tuple(tie('node'), tie('node')), { maxLength: 4 }).map((pairs) => new Map(pairs)),
  ),
})).node;

describe('values round-trip through both tiers', () => {
  let cluster: CacheCluster;
  let a: CacheInstance;
  let b: CacheInstance;

  beforeAll(async () => {
    cluster = await startCacheCluster(2);
    [a, b] = cluster.instances;
  });

  afterAll(() => cluster?.close());

  it('reads back on the writer (L1) and on another instance (L2) exactly what was written', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const key = `k${n++}`;
        await a.cache.namespace('rt').set(key, { v });
        expect(await a.cache.namespace('rt').get(key)).toStrictEqual({ v });
        const l2Hits = b.cache.stats().rt?.l2.hits ?? 0;
        expect(await b.cache.namespace('rt').get(key)).toStrictEqual({ v });
        expect(b.cache.stats().rt.l2.hits).toBe(l2Hits + 1); // decoded from Redis, not shared memory
      }),
      { numRuns: 300 },
    );
  });

  it('tells null from undefined, at the top level too', async () => {
    await a.cache.namespace('nil').mset([
      { key: 'null', value: null },
      { key: 'undefined', value: undefined },
      { key: 'fields', value: { n: null, u: undefined } },
    ]);
    const nil = b.cache.namespace('nil');
    expect(await nil.mget(['null', 'undefined', 'fields'])).toStrictEqual([null, undefined, { n: null, u: undefined }]);
    expect(await nil.has('undefined')).toBe(true);
    expect(await nil.has('absent')).toBe(false);
  });

  it('keeps Buffers, Dates and BigInts as such after Redis', async () => {
    const original = { when: new Date('2026-01-02T03:04:05.678Z'), big: 2n ** 70n, bytes: Buffer.from([0, 1, 255]) };
    await a.cache.set('typed', original);
    const read = await b.cache.get<typeof original>('typed');
    expect(read?.when).toBeInstanceOf(Date);
    expect(read?.when.toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(read?.big).toBe(2n ** 70n);
    expect(Buffer.isBuffer(read?.bytes)).toBe(true);
    expect([...(read?.bytes ?? [])]).toEqual([0, 1, 255]);
  });
});
