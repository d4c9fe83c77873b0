import 'reflect-metadata';
import {
  Column,
  DataSource,
  DeleteDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  type Logger,
} from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { embedIn, QueryCache, queryResultCacheProvider, type QueryCacheOptions } from '@app/query-cache';
import type { CacheInstance } from '../support/cache-instance';

@Entity('qc_user')
export class QcUser {
  @PrimaryGeneratedColumn()
  id: number;

  @Column()
  name: string;

  @Column()
  email: string;

  @DeleteDateColumn({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;

  /** A method, to check that cached reads come back as instances. */
  label(): string {
    return `${this.name} <${this.email}>`;
  }
}

@Entity('qc_boardroom')
export class QcBoardroom {
  @PrimaryGeneratedColumn()
  id: number;

  @Column()
  title: string;
}

@Entity('qc_membership')
export class QcMembership {
  @PrimaryColumn({ name: 'boardroom_id' })
  boardroomId: number;

  @PrimaryColumn({ name: 'user_id' })
  userId: number;

  @ManyToOne(() => QcUser, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user: QcUser;
}

export const SCHEMA = [
  `CREATE TABLE qc_user (id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL, deleted_at timestamptz)`,
  `CREATE TABLE qc_boardroom (id serial PRIMARY KEY, title text NOT NULL)`,
  `CREATE TABLE qc_membership (boardroom_id int NOT NULL REFERENCES qc_boardroom(id) ON DELETE CASCADE,
     user_id int NOT NULL REFERENCES qc_user(id) ON DELETE CASCADE, PRIMARY KEY (boardroom_id, user_id))`,
];

/** The members view of a boardroom: a member's name change or a membership change must reach it. */
export const MEMBER_EMBEDS = [
  embedIn(QcMembership, (m, { tags }) => [tags.view('boardroom-members', m.boardroomId)]),
  embedIn(QcUser, async (user, { manager, tags }) => {
    const memberships = await manager.findBy(QcMembership, { userId: user.id });
    return memberships.map((m) => tags.view('boardroom-members', m.boardroomId));
  }),
];

/** Counts the SELECTs a data source sends: a cache hit must not add one. */
export class CountingLogger implements Logger {
  selects: string[] = [];

  logQuery(query: string): void {
    if (/^\s*select\b/i.test(query)) this.selects.push(query);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

/** One app instance: a data source (its own pool) and a query cache on that instance's tiered cache. */
export interface Peer {
  dataSource: DataSource;
  qc: QueryCache;
  logger: CountingLogger;
  close(): Promise<void>;
}

export type Database = { url: string } | { pglite: string };

export async function openPeer(
  db: Database,
  instance: CacheInstance,
  options: QueryCacheOptions & { typeormCache?: boolean } = {},
): Promise<Peer> {
  const logger = new CountingLogger();
  const connection = 'url' in db ? { url: db.url } : { driver: new PGliteDriver({ dataDir: db.pglite }).driver };
  const dataSource = new DataSource({
    type: 'postgres',
    ...connection,
    entities: [QcUser, QcBoardroom, QcMembership],
    logging: true,
    logger,
    ...(options.typeormCache
      ? { cache: { provider: queryResultCacheProvider(instance.cache.namespace('typeorm')) } }
      : {}),
  });
  await dataSource.initialize();
  const qc = new QueryCache(dataSource, instance.cache.namespace(options.namespace ?? 'query'), options).attach();
  return { dataSource, qc, logger, close: () => dataSource.destroy() };
}

export async function createSchema(dataSource: DataSource): Promise<void> {
  for (const statement of SCHEMA) await dataSource.query(statement);
}

/** A promise and its resolver, to hold a reader at a chosen point. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
