import { embedIn } from '@app/query-cache';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { startCacheCluster, type CacheCluster } from '../support/cache-instance';
import {
  createSchema,
  MEMBER_EMBEDS,
  openPeer,
  QcBoardroom,
  QcMembership,
  QcUser,
  type Peer,
} from './query-cache.fixtures';

/** A boardroom's member list, cached as a view; a member's rename on A must reach B's copy. */
describe('QueryCache embed declarations', () => {
  let db: TestDatabase;
  let cluster: CacheCluster;
  let a: Peer;
  let b: Peer;

  beforeAll(async () => {
    db = await createTestDatabase();
    cluster = await startCacheCluster(2);
    a = await openPeer(db, cluster.instances[0], { embeds: MEMBER_EMBEDS, relationTags: 'declared' });
    b = await openPeer(db, cluster.instances[1], { embeds: MEMBER_EMBEDS, relationTags: 'declared' });
    await createSchema(a.dataSource);
  });

  it("resolves the embeds of a save's entities one at a time on the writer's connection", async () => {
    // TypeORM calls the subscribers of a save's entities at once, and the views query on the writer's
    // connection: overlapping, pg 8 queues them with a deprecation warning, and pg 9 refuses them.
    let running = 0;
    let most = 0;
    const tracked = embedIn(QcUser, async (user, { manager, tags }) => {
      most = Math.max(most, ++running);
      try {
        const memberships = await manager.findBy(QcMembership, { userId: user.id });
        return memberships.map((m) => tags.view('boardroom-members', m.boardroomId));
      } finally {
        running--;
      }
    });
    const peer = await openPeer(db, cluster.instances[0], { embeds: [tracked], relationTags: 'declared' });
    try {
      await peer.dataSource.getRepository(QcUser).save([
        { name: 'Dee', email: 'dee@x' },
        { name: 'Eve', email: 'eve@x' },
        { name: 'Fay', email: 'fay@x' },
      ]);
      expect(most).toBe(1);
    } finally {
      await peer.close();
    }
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await cluster?.close();
    await db?.drop();
  });

  const memberNames = (p: Peer, boardroomId: number) =>
    p.qc.wrap(
      `boardroom-members:${boardroomId}`,
      async () => {
        const rows = await p.dataSource
          .getRepository(QcMembership)
          .find({ where: { boardroomId }, relations: { user: true } });
        return rows.map((m) => m.user.name).sort();
      },
      { tags: [p.qc.tags.view('boardroom-members', boardroomId)], entities: [QcMembership, QcUser] },
    );

  async function seed() {
    const users = await a.dataSource.getRepository(QcUser).save([
      { name: 'Ann', email: 'ann@x' },
      { name: 'Bob', email: 'bob@x' },
      { name: 'Cid', email: 'cid@x' },
    ]);
    const [room, other] = await a.dataSource.getRepository(QcBoardroom).save([{ title: 'R' }, { title: 'O' }]);
    await a.dataSource.getRepository(QcMembership).save([
      { boardroomId: room.id, userId: users[0].id },
      { boardroomId: room.id, userId: users[1].id },
      { boardroomId: other.id, userId: users[2].id },
    ]);
    return { users, room, other };
  }

  it('invalidates the views that embed a row when the row changes, and only those', async () => {
    const { users, room, other } = await seed();
    expect(await memberNames(b, room.id)).toEqual(['Ann', 'Bob']);
    expect(await memberNames(b, other.id)).toEqual(['Cid']);

    await a.dataSource.getRepository(QcUser).save({ ...users[1], name: 'Bobby' });

    expect(await memberNames(b, room.id)).toEqual(['Ann', 'Bobby']);
    const selects = b.logger.selects.length;
    expect(await memberNames(b, other.id)).toEqual(['Cid']); // not embedding Bob: still cached
    expect(b.logger.selects.length).toBe(selects);
  });

  it('invalidates the view when a membership row is added or removed', async () => {
    const { users, room } = await seed();
    expect(await memberNames(b, room.id)).toHaveLength(2);
    await a.dataSource.getRepository(QcMembership).save({ boardroomId: room.id, userId: users[2].id });
    expect(await memberNames(b, room.id)).toEqual(['Ann', 'Bob', 'Cid']);
    await a.dataSource.getRepository(QcMembership).delete({ boardroomId: room.id, userId: users[0].id });
    expect(await memberNames(b, room.id)).toEqual(['Bob', 'Cid']);
  });

  it('a raw rename (rows unknown) reaches the view through its entity tags', async () => {
    const { users, room } = await seed();
    expect(await memberNames(b, room.id)).toEqual(['Ann', 'Bob']);
    await a.dataSource.query(`UPDATE qc_user SET name = 'Annie' WHERE id = $1`, [users[0].id]);
    expect(await memberNames(b, room.id)).toEqual(['Annie', 'Bob']);
  });
});
