import { CacheService, resolveCacheOptions } from '@app/cache';
import { QueryCache } from '@app/query-cache';
import { RedisConnection } from '@app/redis';
import { Column, DataSource, Entity, PrimaryGeneratedColumn, type DataSourceOptions, type Repository } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';

/** The benchmark's table: a user-like row of about 200 bytes. */
@Entity('bench_user')
export class BenchUser {
  @PrimaryGeneratedColumn()
  id: number;

  @Column()
  name: string;

  @Column()
  email: string;

  @Column({ type: 'timestamptz' })
  createdAt: Date;
}

export const ROWS = 1_000;
export const PAGE = 20;

/** A way to run the two reads: by id and one page of the list. */
export interface QueryContender {
  label: string;
  findOne(id: number): Promise<BenchUser | null>;
  page(n: number): Promise<BenchUser[]>;
}

export type Engine = { kind: 'postgres'; url: string } | { kind: 'pglite'; dir: string };

function connection(engine: Engine): Partial<DataSourceOptions> {
  return engine.kind === 'postgres'
    ? { url: engine.url }
    : { driver: new PGliteDriver({ dataDir: engine.dir }).driver };
}

export async function openDataSource(engine: Engine, extra: Partial<DataSourceOptions> = {}): Promise<DataSource> {
  const options = { type: 'postgres', entities: [BenchUser], ...connection(engine), ...extra } as DataSourceOptions;
  return new DataSource(options).initialize();
}

export async function seed(dataSource: DataSource): Promise<void> {
  await dataSource.query(
    `CREATE TABLE IF NOT EXISTS bench_user (id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL, "createdAt" timestamptz NOT NULL)`,
  );
  await dataSource.query(`TRUNCATE bench_user RESTART IDENTITY`);
  const rows = Array.from({ length: ROWS }, (_, i) => ({
    name: `User ${i}`,
    email: `user${i}@example.com`,
    createdAt: new Date(),
  }));
  await dataSource.getRepository(BenchUser).insert(rows);
}

const order = { id: 'ASC' } as const;

export function uncached(repo: Repository<BenchUser>): QueryContender {
  return {
    label: 'uncached TypeORM',
    findOne: (id) => repo.findOneBy({ id }),
    page: (n) => repo.find({ order, skip: n * PAGE, take: PAGE }),
  };
}

/** TypeORM's built-in Redis query cache (`cache: { type: 'redis' }`), 60 s per query. */
export function typeormRedis(repo: Repository<BenchUser>): QueryContender {
  return {
    label: "TypeORM's Redis cache",
    findOne: (id) => repo.findOne({ where: { id }, cache: 60_000 }),
    page: (n) => repo.find({ order, skip: n * PAGE, take: PAGE, cache: 60_000 }),
  };
}

export function ours(qc: QueryCache, repo: Repository<BenchUser>, label = 'ours: qc.cached(repo)'): QueryContender {
  return {
    label,
    findOne: (id) => qc.cached(repo).findOneBy({ id }),
    page: (n) => qc.cached(repo).find({ order, skip: n * PAGE, take: PAGE }),
  };
}

/** A tiered cache with its own Redis connections; `close` stops both. */
export async function openTieredCache(
  url: string,
  prefix: string,
  l1MaxEntries = 10_000,
): Promise<{ cache: CacheService; close(): Promise<void> }> {
  const redis = new RedisConnection({ url, required: true, clientName: `${prefix}-${l1MaxEntries}` });
  await redis.onModuleInit();
  const cache = new CacheService(resolveCacheOptions({ prefix, l1MaxEntries }), redis);
  await cache.onModuleInit();
  return {
    cache,
    close: async () => {
      await cache.onApplicationShutdown();
      await redis.onApplicationShutdown();
    },
  };
}
