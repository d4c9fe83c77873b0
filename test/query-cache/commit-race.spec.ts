import type { EntitySubscriberInterface } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { startCacheCluster, type CacheCluster } from '../support/cache-instance';
import { createSchema, gate, openPeer, QcUser, type Peer } from './query-cache.fixtures';

/**
 * Holds a reader between its database read and its cache write: TypeORM
 * awaits `afterLoad` after the SELECT returned and before `findOneBy`
 * resolves, that is, before the query cache's loader hands the row to the cache.
 */
class PauseAfterLoad implements EntitySubscriberInterface<QcUser> {
  armed?: { loaded: () => void; release: Promise<void> };

  listenTo() {
    return QcUser;
  }

  async afterLoad(): Promise<void> {
    const armed = this.armed;
    if (!armed) return;
    this.armed = undefined;
    armed.loaded();
    await armed.release;
  }
}

describe('QueryCache commit race', () => {
  let db: TestDatabase;
  let cluster: CacheCluster;
  let a: Peer;
  let b: Peer;
  const pause = new PauseAfterLoad();

  beforeAll(async () => {
    db = await createTestDatabase();
    cluster = await startCacheCluster(2);
    a = await openPeer(db, cluster.instances[0]);
    b = await openPeer(db, cluster.instances[1]);
    b.dataSource.subscribers.push(pause);
    await createSchema(a.dataSource);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await cluster?.close();
    await db?.drop();
  });

  /** Starts a cached read on `reader` that stops after its SELECT; resolves once it has the row. */
  async function pausedRead(reader: Peer, id: number) {
    const loaded = gate();
    const release = gate();
    pause.armed = { loaded: loaded.open, release: release.opened };
    const read = reader.qc.cached(QcUser).findOneBy({ id });
    await loaded.opened;
    return { read, release: release.open };
  }

  it.each([
    ['on another instance', () => a],
    ['on the same instance', () => b],
  ])(
    'a reader that loaded the row before the commit does not cache it after the invalidation (writer %s)',
    async (_, writer) => {
      const repo = a.dataSource.getRepository(QcUser);
      const u = await repo.save(repo.create({ name: 'old', email: 'race@x' }));
      const w = writer().dataSource.createQueryRunner();
      await w.startTransaction();
      await w.manager.update(QcUser, { id: u.id }, { name: 'new' });

      // B misses, reads the committed row ('old'), and is held before storing it.
      const reader = await pausedRead(b, u.id);
      await w.commitTransaction(); // invalidates the user's tags on every instance
      await w.release();
      reader.release();
      expect((await reader.read)?.name).toBe('old'); // what an uncached read started then returns

      // The late write was refused: both instances read the committed state.
      expect((await b.qc.cached(QcUser).findOneBy({ id: u.id }))?.name).toBe('new');
      expect((await a.qc.cached(QcUser).findOneBy({ id: u.id }))?.name).toBe('new');
    },
  );

  it('a paused list read (findAndCount) is not cached over an insert committed meanwhile', async () => {
    const repo = a.dataSource.getRepository(QcUser);
    await repo.save(repo.create({ name: 'first', email: 'l@x' }));
    const loaded = gate();
    const release = gate();
    pause.armed = { loaded: loaded.open, release: release.opened };
    const read = b.qc.cached(QcUser).findAndCount({ where: { email: 'l@x' } });
    await loaded.opened;
    await repo.save(repo.create({ name: 'second', email: 'l@x' }));
    release.open();
    expect((await read)[1]).toBe(1);
    expect((await b.qc.cached(QcUser).findAndCount({ where: { email: 'l@x' } }))[1]).toBe(2);
  });
});
