import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { pastInvalidationMs, startCacheCluster, type CacheCluster } from '../support/cache-instance';
import { createSchema, openPeer, QcBoardroom, QcMembership, QcUser, type Peer } from './query-cache.fixtures';

/**
 * Two app instances (A writes, B reads): two data sources on one Postgres
 * database, two tiered caches on one Redis. After each write returns on A,
 * B's next cached read (row, list, count) shows the new state.
 */
describe('QueryCache read-after-write across instances (Postgres)', () => {
  let db: TestDatabase;
  let cluster: CacheCluster;
  let a: Peer;
  let b: Peer;

  beforeAll(async () => {
    db = await createTestDatabase();
    cluster = await startCacheCluster(2);
    a = await openPeer(db, cluster.instances[0]);
    b = await openPeer(db, cluster.instances[1]);
    await createSchema(a.dataSource);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await cluster?.close();
    await db?.drop();
  });

  const users = (p: Peer) => p.qc.cached(p.dataSource.getRepository(QcUser));
  const page = (p: Peer) => users(p).findAndCount({ order: { id: 'ASC' }, take: 10 });

  /** Warms B's cache and checks that the warm reads are hits (no new SELECT). */
  async function warm(id: number): Promise<void> {
    await pastInvalidationMs();
    await users(b).findOneBy({ id });
    await page(b);
    await users(b).count();
    const before = b.logger.selects.length;
    await users(b).findOneBy({ id });
    await page(b);
    await users(b).count();
    expect(b.logger.selects.length).toBe(before);
  }

  it('sees a save (insert and update) made on the other instance', async () => {
    const repo = a.dataSource.getRepository(QcUser);
    const ada = await repo.save(repo.create({ name: 'Ada', email: 'ada@x' }));
    await warm(ada.id);
    expect(await users(b).findOneBy({ id: ada.id + 1 })).toBeNull(); // a cached "not found"

    ada.name = 'Ada L.';
    await repo.save(ada);
    const grace = await repo.save(repo.create({ name: 'Grace', email: 'grace@x' }));
    expect(grace.id).toBe(ada.id + 1);

    expect((await users(b).findOneBy({ id: ada.id }))?.name).toBe('Ada L.');
    expect((await users(b).findOneBy({ id: grace.id }))?.name).toBe('Grace');
    const [rows, count] = await page(b);
    expect(rows.map((u) => u.name)).toEqual(expect.arrayContaining(['Ada L.', 'Grace']));
    expect(count).toBe(await a.dataSource.getRepository(QcUser).count());
    expect(await users(b).count()).toBe(count);
  });

  it('sees a QueryBuilder update and delete (no entity ids) made on the other instance', async () => {
    const repo = a.dataSource.getRepository(QcUser);
    const u = await repo.save(repo.create({ name: 'Linus', email: 'linus@x' }));
    await warm(u.id);

    await repo.createQueryBuilder().update().set({ name: 'Linus T.' }).where('id = :id', { id: u.id }).execute();
    expect((await users(b).findOneBy({ id: u.id }))?.name).toBe('Linus T.');
    expect((await page(b))[0].find((x) => x.id === u.id)?.name).toBe('Linus T.');

    const countBefore = await users(b).count();
    await repo.createQueryBuilder().delete().where('id = :id', { id: u.id }).execute();
    expect(await users(b).findOneBy({ id: u.id })).toBeNull();
    expect(await users(b).count()).toBe(countBefore - 1);
  });

  it('sees remove, soft remove and raw SQL through the repository', async () => {
    const repo = a.dataSource.getRepository(QcUser);
    const [x, y, z] = await repo.save([
      repo.create({ name: 'X', email: 'x@x' }),
      repo.create({ name: 'Y', email: 'y@x' }),
      repo.create({ name: 'Z', email: 'z@x' }),
    ]);
    await warm(x.id);
    await users(b).findOneBy({ id: y.id });
    await users(b).findOneBy({ id: z.id });

    await repo.remove(await repo.findOneByOrFail({ id: x.id }));
    await repo.softRemove(await repo.findOneByOrFail({ id: y.id }));
    await repo.query(`UPDATE qc_user SET name = 'Z2' WHERE id = $1`, [z.id]);

    expect(await users(b).findOneBy({ id: x.id })).toBeNull();
    expect(await users(b).findOneBy({ id: y.id })).toBeNull();
    expect((await users(b).findOneBy({ id: z.id }))?.name).toBe('Z2');
    expect(await users(b).count()).toBe(await repo.count());
  });

  it('sees the rows the database deletes by ON DELETE CASCADE when a referenced row goes', async () => {
    const people = a.dataSource.getRepository(QcUser);
    const room = await a.dataSource.getRepository(QcBoardroom).save({ title: 'Cascade' });
    const [p, q, r] = await people.save(['P', 'Q', 'R'].map((name) => people.create({ name, email: `${name}@x` })));
    await a.dataSource.getRepository(QcMembership).save([p, q, r].map((u) => ({ boardroomId: room.id, userId: u.id })));
    await pastInvalidationMs();
    // Reads of memberships only: no user row is part of them, so only the cascade links them to the deletes.
    const members = async () =>
      (await b.qc.cached(b.dataSource.getRepository(QcMembership)).findBy({ boardroomId: room.id }))
        .map((m) => m.userId)
        .sort((x, y) => x - y);
    expect(await members()).toEqual([p.id, q.id, r.id]);
    const selects = b.logger.selects.length;
    expect(await members()).toEqual([p.id, q.id, r.id]);
    expect(b.logger.selects.length).toBe(selects); // cached

    await people.remove(await people.findOneByOrFail({ id: p.id })); // rows known
    expect(await members()).toEqual([q.id, r.id]);
    await people.delete(q.id); // a QueryBuilder delete: rows unknown
    expect(await members()).toEqual([r.id]);
    await a.dataSource.query('DELETE FROM qc_user WHERE id = $1', [r.id]); // raw SQL
    expect(await members()).toEqual([]);
  });

  it('invalidates a transaction’s writes at its commit, not before, and not at all on rollback', async () => {
    const repo = a.dataSource.getRepository(QcUser);
    const u = await repo.save(repo.create({ name: 'Tx', email: 'tx@x' }));
    await warm(u.id);

    const runner = a.dataSource.createQueryRunner();
    await runner.startTransaction();
    await runner.manager.update(QcUser, { id: u.id }, { name: 'Tx2' });
    await runner.manager.save(QcUser, { id: u.id, name: 'Tx3', email: 'tx@x' });
    // Not committed: B keeps reading the committed state, from its cache.
    const selects = b.logger.selects.length;
    expect((await users(b).findOneBy({ id: u.id }))?.name).toBe('Tx');
    expect(b.logger.selects.length).toBe(selects);
    await runner.commitTransaction();
    await runner.release();
    expect((await users(b).findOneBy({ id: u.id }))?.name).toBe('Tx3');
    // That read came right after the commit: read in the invalidation's millisecond, it is not
    // cached (the late-write guard, see pastInvalidationMs), and the check below would count its reload.
    await warm(u.id);

    const rolledBack = a.dataSource.createQueryRunner();
    await rolledBack.startTransaction();
    await rolledBack.manager.save(QcUser, { id: u.id, name: 'never', email: 'tx@x' });
    await rolledBack.rollbackTransaction();
    await rolledBack.release();
    const afterRollback = b.logger.selects.length;
    expect((await users(b).findOneBy({ id: u.id }))?.name).toBe('Tx3');
    expect(b.logger.selects.length).toBe(afterRollback); // still cached: nothing was invalidated
  });

  it('returns entity instances from the cache, and a cache hit sends no SELECT', async () => {
    const repo = a.dataSource.getRepository(QcUser);
    const u = await repo.save(repo.create({ name: 'Inst', email: 'inst@x' }));
    await pastInvalidationMs();
    const first = await users(b).findOneBy({ id: u.id });
    const selects = b.logger.selects.length;
    const hit = await users(b).findOneBy({ id: u.id });
    expect(b.logger.selects.length).toBe(selects);
    expect(hit).toBeInstanceOf(QcUser);
    expect(hit?.label()).toBe('Inst <inst@x>');
    expect(hit).toEqual(first);
    expect(hit).not.toBe(first);
  });
});
