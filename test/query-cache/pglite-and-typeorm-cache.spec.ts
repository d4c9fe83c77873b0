import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Repository } from 'typeorm';
import { startCacheCluster, type CacheCluster } from '../support/cache-instance';
import { createSchema, openPeer, QcUser, type Peer } from './query-cache.fixtures';

/**
 * Embedded PGlite (one database in the process, two data sources on it, as two
 * instances) and TypeORM's own `cache` option served by our tiers.
 */
describe('QueryCache on PGlite, and TypeORM’s cache option on our tiers', () => {
  let dir: string;
  let cluster: CacheCluster;
  let a: Peer;
  let b: Peer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qc-pglite-'));
    cluster = await startCacheCluster(2);
    a = await openPeer({ pglite: dir }, cluster.instances[0], { typeormCache: true });
    b = await openPeer({ pglite: dir }, cluster.instances[1], { typeormCache: true });
    await createSchema(a.dataSource);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('read-after-write across instances: save, QueryBuilder update, delete', async () => {
    const repo = a.dataSource.getRepository(QcUser);
    const u = await repo.save(repo.create({ name: 'P', email: 'p@x' }));
    const users = b.qc.cached(QcUser);
    expect((await users.findOneBy({ id: u.id }))?.name).toBe('P');
    expect(await users.count()).toBe(1);
    const selects = b.logger.selects.length;
    await users.findOneBy({ id: u.id });
    expect(b.logger.selects.length).toBe(selects);

    await repo.save({ ...u, name: 'P2' });
    expect((await users.findOneBy({ id: u.id }))?.name).toBe('P2');
    await repo.createQueryBuilder().update().set({ name: 'P3' }).where('id = :id', { id: u.id }).execute();
    expect((await users.find()).map((x) => x.name)).toEqual(['P3']);
    await repo.delete({ id: u.id });
    expect(await users.findOneBy({ id: u.id })).toBeNull();
    expect(await users.count()).toBe(0);
  });

  it('serves find({ cache }) from our tiers: a hit sends no SELECT, a write on A invalidates B', async () => {
    const repo = a.dataSource.getRepository(QcUser);
    await repo.save(repo.create({ name: 'T', email: 't@x' }));
    const onB = () => b.dataSource.getRepository(QcUser).find({ where: { email: 't@x' }, cache: 60_000 });
    expect((await onB()).map((u) => u.name)).toEqual(['T']);
    const selects = b.logger.selects.length;
    expect((await onB()).map((u) => u.name)).toEqual(['T']);
    expect(b.logger.selects.length).toBe(selects);

    await repo.save(repo.create({ name: 'T2', email: 't@x' }));
    expect((await onB()).map((u) => u.name).sort()).toEqual(['T', 'T2']);
  });

  it('bypasses find({ cache }) inside a transaction: it sees its own writes, and a rollback leaves nothing cached', async () => {
    const find = (repo: Repository<QcUser>, email: string) => repo.find({ where: { email }, cache: 60_000 });
    expect(await find(b.dataSource.getRepository(QcUser), 'tx-old@x')).toEqual([]); // cached before the transaction
    const runner = a.dataSource.createQueryRunner();
    await runner.startTransaction();
    try {
      const tx = runner.manager.getRepository(QcUser);
      await tx.save([tx.create({ name: 'ghost', email: 'tx-old@x' }), tx.create({ name: 'ghost', email: 'tx-new@x' })]);
      expect((await find(tx, 'tx-old@x')).map((u) => u.name)).toEqual(['ghost']); // not the entry cached before
      expect((await find(tx, 'tx-new@x')).map((u) => u.name)).toEqual(['ghost']); // read, but not stored
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    expect(await find(b.dataSource.getRepository(QcUser), 'tx-new@x')).toEqual([]);
  });

  it('remove([id]) drops the -count entry that getManyAndCount adds', async () => {
    const qb = () => b.dataSource.getRepository(QcUser).createQueryBuilder('u').cache('users-page', 60_000);
    const [, count] = await qb().getManyAndCount();
    // Bypass the subscriber: a write it does not see (another application on the same database).
    a.qc.detach();
    try {
      await a.dataSource.query(`INSERT INTO qc_user (name, email) VALUES ('hidden', 'h@x')`);
    } finally {
      a.qc.attach();
    }
    expect((await qb().getManyAndCount())[1]).toBe(count); // still cached
    await b.dataSource.queryResultCache!.remove(['users-page']);
    expect((await qb().getManyAndCount())[1]).toBe(count + 1);
  });
});
