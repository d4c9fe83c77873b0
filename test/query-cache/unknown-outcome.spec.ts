import { waitFor } from '../support/free-port';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { pastInvalidationMs, startCacheCluster, type CacheCluster } from '../support/cache-instance';
import { TcpProxy } from '../support/tcp-proxy';
import { createSchema, openPeer, QcUser, type Peer } from './query-cache.fixtures';

/**
 * A write whose answer is lost (the connection fails after the statement
 * reached Postgres) answers with an error, yet may have taken effect: its
 * reads must be invalidated as if it had. A writes through a proxy that cuts
 * its connection right after the statement went through; B reads directly.
 */
describe('QueryCache writes of unknown outcome (Postgres)', () => {
  let db: TestDatabase;
  let cluster: CacheCluster;
  let proxy: TcpProxy;
  let a: Peer;
  let b: Peer;

  beforeAll(async () => {
    db = await createTestDatabase();
    cluster = await startCacheCluster(2);
    const viaProxy = await TcpProxy.inFrontOf(db.url);
    proxy = viaProxy.proxy;
    a = await openPeer({ url: viaProxy.url }, cluster.instances[0]);
    b = await openPeer(db, cluster.instances[1]);
    await createSchema(b.dataSource);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await proxy?.stop();
    await cluster?.close();
    await db?.drop();
  });

  const users = (p: Peer) => p.qc.cached(p.dataSource.getRepository(QcUser));

  /** A user whose row B has cached (its second read is a hit). */
  async function cachedOnB(name: string): Promise<QcUser> {
    const repo = b.dataSource.getRepository(QcUser);
    const user = await repo.save(repo.create({ name, email: `${name}@x` }));
    await pastInvalidationMs();
    await users(b).findOneBy({ id: user.id });
    const selects = b.logger.selects.length;
    expect((await users(b).findOneBy({ id: user.id }))?.name).toBe(name);
    expect(b.logger.selects.length).toBe(selects);
    return user;
  }

  /** Waits until Postgres itself holds the name (the cut request is still run by the server). */
  async function stored(id: number, name: string): Promise<void> {
    const read = () => b.dataSource.query<QcUser[]>('SELECT name FROM qc_user WHERE id = $1', [id]);
    await waitFor(async () => (await read())[0]?.name === name, 10_000, `the row to hold ${name}`);
  }

  it('invalidates the reads of a transaction whose COMMIT reached Postgres but was never answered', async () => {
    const user = await cachedOnB('before-commit');
    proxy.cutAfter('COMMIT');
    const repo = a.dataSource.getRepository(QcUser);
    await expect(repo.save({ ...user, name: 'after-commit' })).rejects.toThrow();
    await stored(user.id, 'after-commit');

    // The old code dropped the buffered tags with the failed COMMIT: B kept serving the old row for the TTL.
    expect((await users(b).findOneBy({ id: user.id }))?.name).toBe('after-commit');
  });

  it('invalidates the reads of a single statement whose answer was lost', async () => {
    const user = await cachedOnB('before-update');
    proxy.cutAfter('UPDATE');
    const update = a.dataSource
      .getRepository(QcUser)
      .createQueryBuilder()
      .update()
      .set({ name: 'after-update' })
      .where('id = :id', { id: user.id });
    await expect(update.execute()).rejects.toThrow();
    await stored(user.id, 'after-update');

    expect((await users(b).findOneBy({ id: user.id }))?.name).toBe('after-update');
  });

  it('does not invalidate for a statement Postgres refused (it did nothing)', async () => {
    const user = await cachedOnB('refused');
    const refused = a.dataSource.query('UPDATE qc_user SET name = $1 WHERE id = $2 AND 1/0 = 1', ['x', user.id]);
    await expect(refused).rejects.toThrow(/division by zero/);

    const selects = b.logger.selects.length;
    expect((await users(b).findOneBy({ id: user.id }))?.name).toBe('refused');
    expect(b.logger.selects.length).toBe(selects); // still a hit: nothing was invalidated
  });
});
