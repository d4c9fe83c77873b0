import fc from 'fast-check';
import { startCacheCluster, type CacheCluster, type CacheInstance } from '../support/cache-instance';

/** Values with the types the serializer promises to keep. */
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.string(),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.bigInt(),
    fc.date({ noInvalidDate: true }),
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 4 }),
    fc.uniqueArray(fc.string(), { maxLength: 4 }).map((items) => new Set(items)),
    fc.array(fc.tuple(fc.string(), tie('leaf')), { maxLength: 4 }).map((pairs) => new Map(pairs)),
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

  it('reads back on the writer (L1) and on another instance (L2) what was written', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const key = `k${n++}`;
        await a.cache.namespace('rt').set(key, { v });
        expect(await a.cache.namespace('rt').get(key)).toEqual({ v });
        expect(await b.cache.namespace('rt').get(key)).toEqual({ v });
      }),
      { numRuns: 200 },
    );
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
