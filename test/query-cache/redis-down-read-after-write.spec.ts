import { PostgresInvalidationChannel } from '@app/query-cache';
import { waitFor } from '../support/free-port';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { pastInvalidationMs, startCacheCluster, type CacheCluster } from '../support/cache-instance';
import { createSchema, openPeer, QcUser, type Peer } from './query-cache.fixtures';

/**
 * Two instances (A writes, B reads) on one Postgres database and one Redis,
 * which is killed: with the Postgres channel, every write on A is seen by
 * B's next read, from the query cache and from the cache API; without it
 * (the control), B keeps serving its L1 copy, which is the failure the
 * channel exists for.
 */
describe('Read-after-write across instances while Redis is down (Postgres LISTEN/NOTIFY)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  interface Pair {
    cluster: CacheCluster;
    a: Peer;
    b: Peer;
    channels: PostgresInvalidationChannel[];
    close(): Promise<void>;
  }

  async function startPair(withChannel: boolean, options: { probeIntervalMs?: number } = {}): Promise<Pair> {
    const cluster = await startCacheCluster(2, options);
    const [ia, ib] = cluster.instances;
    const a = await openPeer(db, ia);
    const b = await openPeer(db, ib);
    const channels: PostgresInvalidationChannel[] = [];
    if (withChannel) {
      for (const [peer, instance] of [
        [a, ia],
        [b, ib],
      ] as const) {
        const channel = PostgresInvalidationChannel.forDataSource(peer.dataSource)!;
        channels.push(channel);
        expect(await instance.cache.useInvalidationChannel(channel)).toBe(true);
        expect(instance.cache.status().channel).toBe('listening');
      }
    }
    return {
      cluster,
      a,
      b,
      channels,
      close: async () => {
        await cluster.close();
        await a.close();
        await b.close();
      },
    };
  }

  async function killRedis(pair: Pair): Promise<void> {
    await pair.cluster.server.kill();
    await waitFor(
      () => Promise.resolve(pair.cluster.instances.every((i) => i.cache.status().breaker === 'open')),
      5_000,
      'both breakers to open',
    );
  }

  const users = (p: Peer) => p.qc.cached(p.dataSource.getRepository(QcUser));

  it('shows B every write A made, by the query cache and the cache API, with zero stale reads', async () => {
    const pair = await startPair(true);
    try {
      await createSchema(pair.a.dataSource);
      const repo = pair.a.dataSource.getRepository(QcUser);
      const user = await repo.save(repo.create({ name: 'v0', email: 'v@x' }));
      await pastInvalidationMs();
      const [ca, cb] = pair.cluster.instances.map((i) => i.cache.namespace('api'));
      await ca.set('k', 'v0');
      await ca.set('m', 'v0');
      // B's L1 holds every value before the outage.
      expect((await users(pair.b).findOneBy({ id: user.id }))?.name).toBe('v0');
      expect(await users(pair.b).count()).toBe(1);
      expect(await cb.get('k')).toBe('v0');
      expect(await cb.getOrSet('m', () => 'loaded')).toBe('v0');

      await killRedis(pair);
      // B still serves its L1 while nothing changes (no DB query for a hit).
      const selects = pair.b.logger.selects.length;
      expect((await users(pair.b).findOneBy({ id: user.id }))?.name).toBe('v0');
      expect(pair.b.logger.selects.length).toBe(selects);

      const stale: string[] = [];
      for (let i = 1; i <= 20; i++) {
        await repo.update(user.id, { name: `v${i}` });
        const seen = (await users(pair.b).findOneBy({ id: user.id }))?.name;
        if (seen !== `v${i}`) stale.push(`query cache: ${seen} after v${i}`);
        // Every read was re-cached on B; it must go again at the next write.
        await ca.delete(['k']);
        if ((await cb.get('k')) !== undefined) stale.push(`get after delete ${i}`);
        // B's own write, kept in its L1 only (Redis is down); A's later write must replace it.
        // A's value lives in A's L1 alone, so B may miss, but must not see its older copy.
        await cb.set('k', `x${i}`);
        await ca.set('k', `v${i}`);
        const got = await cb.get('k');
        if (got === `x${i}`) stale.push(`get: ${got} after v${i}`);
        await cb.set('m', `x${i}`);
        await ca.invalidateTags([]); // nothing: B's copy of m stays
        await ca.delete(['m']);
        const [many] = await cb.mget<string>(['m']);
        if (many !== undefined) stale.push(`mget: ${String(many)} after delete ${i}`);
        if (await cb.has('m')) stale.push(`has after delete ${i}`);
        if ((await cb.getOrSet('m', () => 'loaded')) !== 'loaded') stale.push(`getOrSet after delete ${i}`);
      }
      await repo.insert(repo.create({ name: 'second', email: 's@x' }));
      expect(await users(pair.b).count()).toBe(2);
      expect(stale).toEqual([]);
      // What was not written is still served from L1.
      const before = pair.b.logger.selects.length;
      await users(pair.b).findOneBy({ id: user.id });
      expect(pair.b.logger.selects.length).toBe(before);

      // Redis back: the bus carries the invalidations again.
      await pair.cluster.server.restart();
      await waitFor(
        () => Promise.resolve(pair.cluster.instances.every((i) => i.cache.status().breaker === 'closed')),
        5_000,
        'both breakers to close',
      );
      for (let i = 1; i <= 5; i++) {
        await users(pair.b).findOneBy({ id: user.id });
        await repo.update(user.id, { name: `up${i}` });
        const seen = (await users(pair.b).findOneBy({ id: user.id }))?.name;
        if (seen !== `up${i}`) stale.push(`after recovery: ${seen} after up${i}`);
      }
      expect(stale).toEqual([]);
    } finally {
      await pair.close();
    }
  });

  it('shows B what A wrote while only A cannot reach Redis: B reads neither its unbarriered L1 nor L2', async () => {
    // A's breaker open, B's closed: as when one instance recovers before the other, or loses Redis alone.
    // A's invalidations then reach neither L2 (no tombstones, no markers) nor the bus, only the channel.
    const pair = await startPair(true, { probeIntervalMs: 60_000 });
    try {
      // The schema is the first test's (one database for the file).
      const repo = pair.a.dataSource.getRepository(QcUser);
      const user = await repo.save(repo.create({ name: 'v0', email: 'w@x' }));
      const [a, b] = pair.cluster.instances;
      const [ca, cb] = [a, b].map((i) => i.cache.namespace('api'));
      await cb.set('l1', 'old');
      await cb.set('l2', 'old');
      expect((await users(pair.b).findOneBy({ id: user.id }))?.name).toBe('v0'); // in B's L1 and L2

      a.cache.engine.parts.remote.breaker.trip();
      // A says so on the channel at once.
      await waitFor(() => b.cache.engine.parts.invalidator.peerDegraded, 2_000, 'B to hear that A is degraded');
      expect(b.cache.status().breaker).toBe('closed');

      // Read right after A's write resolves, before any I/O: only a barrier lets B see it.
      await ca.set('l1', 'new');
      expect(await cb.get('l1')).not.toBe('old');
      await repo.update(user.id, { name: 'v1' });
      expect((await users(pair.b).findOneBy({ id: user.id }))?.name).toBe('v1');
      // Dropped from B's L1 by the channel, the old entry is still in L2: A could not tombstone it.
      await ca.delete(['l2']);
      await b.cache.engine.parts.invalidator.passBarrier();
      expect(await cb.get('l2')).toBeUndefined();
      expect(await cb.getOrSet('l2', () => 'loaded')).toBe('loaded');
    } finally {
      await pair.close();
    }
  });

  it('does not trust L1 while neither Redis nor the channel can prove it current (reads go to the database)', async () => {
    const pair = await startPair(true);
    try {
      const repo = pair.a.dataSource.getRepository(QcUser);
      const user = await repo.save(repo.create({ name: 'kept', email: 'k@x' }));
      await pastInvalidationMs();
      await users(pair.b).findOneBy({ id: user.id });
      await killRedis(pair);
      await pair.channels[1].stop(); // B's channel gone too: its barrier cannot pass
      expect(pair.cluster.instances[1].cache.status().channel).toBe('down');
      const selects = pair.b.logger.selects.length;
      expect((await users(pair.b).findOneBy({ id: user.id }))?.name).toBe('kept');
      expect(pair.b.logger.selects.length).toBe(selects + 1);
    } finally {
      await pair.close();
    }
  });

  it('without the channel, B serves its stale L1 copy (the failure the channel prevents)', async () => {
    const pair = await startPair(false);
    try {
      const repo = pair.a.dataSource.getRepository(QcUser);
      const user = await repo.save(repo.create({ name: 'old', email: 'o@x' }));
      await pastInvalidationMs();
      expect((await users(pair.b).findOneBy({ id: user.id }))?.name).toBe('old');
      await killRedis(pair);
      await repo.update(user.id, { name: 'new' });
      expect((await users(pair.b).findOneBy({ id: user.id }))?.name).toBe('old');
    } finally {
      await pair.close();
    }
  });
});
