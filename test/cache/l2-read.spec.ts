import { commandCalls, startCacheCluster, type CacheCluster, type CacheInstance } from '../support/cache-instance';

// The L2 read without a script: when the caller names the tags its entries
// carry and Redis's clock was seen within the last second, a read is one
// MGET of the entry and those tags' markers. These tests pin down that it
// decides exactly as the read script does, and falls back to it otherwise.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The engine's parts (the seam `TieredCache.parts` gives tests). */
const partsOf = (i: CacheInstance) => i.cache.engine.parts;
const l2Of = (i: CacheInstance) => partsOf(i).remote.l2!;

describe('L2 read through MGET', () => {
  let cluster: CacheCluster;
  let a: CacheInstance;
  let b: CacheInstance;
  let scripted: jest.SpyInstance;

  beforeAll(async () => {
    cluster = await startCacheCluster(2);
    [a, b] = cluster.instances;
  });

  afterAll(() => cluster?.close());

  beforeEach(async () => {
    scripted = jest.spyOn(l2Of(b), 'getScripted');
    // A write on B returns Redis's clock: B's next reads may skip the script.
    await b.cache.namespace('clock').set(`tick-${Math.random()}`, 1);
    scripted.mockClear();
  });

  afterEach(() => scripted.mockRestore());

  it('serves an L2 hit without running the read script', async () => {
    await a.cache.namespace('m1').set('k', { n: 1, at: new Date(5) }, { tags: ['t1'] });
    const value = await b.cache.namespace('m1').getOrSet('k', () => ({ n: 2, at: new Date(0) }), { tags: ['t1'] });
    expect(value).toEqual({ n: 1, at: new Date(5) });
    expect(scripted).not.toHaveBeenCalled();
    expect(b.cache.stats().m1.l2.hits).toBe(1);
  });

  it('makes an entry whose tag was invalidated a miss', async () => {
    await a.cache.namespace('m2').set('k', 'old', { tags: ['t2'] });
    await a.cache.invalidateTags(['t2']);
    // Past the estimate's uncertainty: a stamp this recent sends the read to the script (next test).
    await sleep(20);
    const loader = jest.fn(() => 'new');
    expect(await b.cache.namespace('m2').getOrSet('k', loader, { tags: ['t2'] })).toBe('new');
    expect(loader).toHaveBeenCalledTimes(1);
    expect(scripted).not.toHaveBeenCalled();
  });

  it('makes a cleared namespace and a deleted key misses', async () => {
    await a.cache.namespace('m3').set('cleared', 'old');
    await a.cache.namespace('m3b').set('deleted', 'old');
    await a.cache.clearNamespace('m3');
    await a.cache.namespace('m3b').delete('deleted');
    await sleep(20);
    expect(await b.cache.namespace('m3').getOrSet('cleared', () => 'new')).toBe('new');
    expect(await b.cache.namespace('m3b').getOrSet('deleted', () => 'new')).toBe('new');
    expect(scripted).not.toHaveBeenCalled();
  });

  it('asks the script when the entry carries a tag the reader did not name', async () => {
    await a.cache.namespace('m4').set('k', 'old', { tags: ['other'] });
    await a.cache.invalidateTags(['other']);
    // The reader names no tag: the MGET did not read the `other` marker, so it cannot judge the entry.
    expect(await b.cache.namespace('m4').getOrSet('k', () => 'new')).toBe('new');
    expect(scripted).toHaveBeenCalledTimes(1);
  });

  it('gives a write after the read a late-write guard no later than the read', async () => {
    const l2 = l2Of(b);
    const key = b.cache.redisKey('m5', 'k');
    const read = await l2.get(key, ['ns.m5']);
    expect(scripted).not.toHaveBeenCalled();
    expect(read.notBefore).toBeLessThanOrEqual(read.now);
    await a.cache.namespace('m5').delete('k');
    const write = { key, ttlMs: 10_000, graceMs: 0, schema: '1', tags: ['ns.m5'], payload: '"old"' };
    expect(await l2.set({ ...write, notBefore: read.notBefore })).toBe(false);
    expect(await a.cache.namespace('m5').get('k')).toBeUndefined();
  });

  it('writes after a read that found the key absent with SET NX, not the write script', async () => {
    const setIfAbsent = jest.spyOn(l2Of(b), 'setIfAbsent');
    expect(await b.cache.namespace('m8').getOrSet('k', () => 'loaded', { tags: ['t8'] })).toBe('loaded');
    expect(setIfAbsent).toHaveBeenCalledTimes(1);
    await expect(setIfAbsent.mock.results[0].value).resolves.toBe(true);
    setIfAbsent.mockRestore();
    expect(await a.cache.namespace('m8').getOrSet('k', () => 'other', { tags: ['t8'] })).toBe('loaded');
  });

  it('refuses that write when the key was deleted after the read', async () => {
    const l2 = l2Of(b);
    const key = b.cache.redisKey('m9', 'k');
    const read = await l2.get(key, ['ns.m9']);
    expect(read.absent).toBe(true);
    await a.cache.namespace('m9').delete('k');
    const write = { key, ttlMs: 10_000, graceMs: 0, schema: '1', tags: ['ns.m9'], payload: '"old"' };
    expect(await l2.set({ ...write, notBefore: read.notBefore, absent: true })).toBe(false);
    expect(await a.cache.namespace('m9').getOrSet('k', () => 'new')).toBe('new');
  });

  it('makes that write a miss for every reader when a tag was invalidated after the read', async () => {
    const l2 = l2Of(b);
    const key = b.cache.redisKey('m10', 'k');
    const read = await l2.get(key, ['ns.m10', 't10']);
    expect(read.absent).toBe(true);
    await a.cache.invalidateTags(['t10']);
    const write = { key, ttlMs: 10_000, graceMs: 0, schema: '1', tags: ['ns.m10', 't10'], payload: '"old"' };
    expect(await l2.set({ ...write, notBefore: read.notBefore, absent: true })).toBe(false);
    // Stored, but stamped with the read's time: older than the marker, so no reader takes it.
    expect(await a.cache.namespace('m10').getOrSet('k', () => 'new', { tags: ['t10'] })).toBe('new');
    // That reload followed the invalidation closely. Usually its read took Redis's
    // exact time from the script and its write stands, so B reads it; on a loaded
    // machine the read can fall on the estimated clock and the write is refused,
    // or stamped, as possibly late: a miss for B, never a stale value. Never "old".
    const seen = await b.cache.namespace('m10').getOrSet('k', () => 'again', { tags: ['t10'] });
    expect(['new', 'again']).toContain(seen);
  });

  it("copies the entry into L1 with the L2 entry's remaining TTL", async () => {
    await a.cache.namespace('m6').set('k', 'v', { ttl: 600 });
    await sleep(350);
    await b.cache.namespace('clock').set('again', 1);
    expect(await b.cache.namespace('m6').getOrSet('k', () => 'loaded')).toBe('v');
    expect(scripted).not.toHaveBeenCalled();
    await sleep(350);
    // 700 ms after the write: a fresh 600 ms TTL in B's L1 would still hit.
    expect(await b.cache.namespace('m6').getOrSet('k', () => 'loaded')).toBe('loaded');
  });

  it('runs the script again once the last known server time is over a second old', async () => {
    await a.cache.namespace('m7').set('k', 'v');
    await sleep(1_100);
    expect(await b.cache.namespace('m7').getOrSet('k', () => 'loaded')).toBe('v');
    expect(scripted).toHaveBeenCalledTimes(1);
  });

  it('answers concurrent reads with one MGET per event-loop turn, each judged against its own tags', async () => {
    const ns = a.cache.namespace('m11');
    // 40 entries; every fourth carries a tag invalidated after the writes.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => ns.set(`k${i}`, `old${i}`, { tags: [i % 4 === 0 ? 'gone' : 'kept'] })),
    );
    await a.cache.invalidateTags(['gone']);
    await sleep(20);
    await b.cache.namespace('clock').set(`tick-${Math.random()}`, 1);
    const before = (await commandCalls(cluster.instances[0].redis)).mget ?? 0;

    const reader = b.cache.namespace('m11');
    const values = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        reader.getOrSet(`k${i}`, () => `new${i}`, { tags: [i % 4 === 0 ? 'gone' : 'kept'] }),
      ),
    );

    expect(values).toEqual(Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? `new${i}` : `old${i}`)));
    expect(scripted).not.toHaveBeenCalled();
    // The 40 reads of one turn in one MGET (the reloads' writes read markers with MGET too: 10 more).
    const mgets = ((await commandCalls(cluster.instances[0].redis)).mget ?? 0) - before;
    expect(mgets).toBeLessThanOrEqual(1 + 10);
  });
});
