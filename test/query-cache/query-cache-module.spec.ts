import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { CacheModule } from '@app/cache';
import { QueryCache, QueryCacheModule } from '@app/query-cache';
import { RedisModule } from '@app/redis';
import type { DataSource } from 'typeorm';
import { uniquePrefix } from '../support/cache-instance';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { TestRedisServer } from '../support/redis-server';
import { createSchema, CountingLogger, QcBoardroom, QcMembership, QcUser } from './query-cache.fixtures';

describe(QueryCacheModule.name, () => {
  let db: TestDatabase;
  let server: TestRedisServer;
  let moduleRef: TestingModule;
  const logger = new CountingLogger();

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await TestRedisServer.start();
    moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ url: server.url }),
        CacheModule.forRoot({ prefix: uniquePrefix() }),
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url, entities: [QcUser, QcBoardroom, QcMembership], logger }),
        QueryCacheModule.forRootAsync({ useFactory: () => ({ ttl: 60_000 }) }),
      ],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    await createSchema(moduleRef.get<DataSource>(getDataSourceToken()));
  });

  afterAll(async () => {
    await moduleRef?.close();
    await server?.stop();
    await db?.drop();
  });

  it('provides QueryCache with its subscriber attached at init: writes invalidate cached reads', async () => {
    const qc = moduleRef.get(QueryCache);
    const repo = moduleRef.get<DataSource>(getDataSourceToken()).getRepository(QcUser);
    const u = await repo.save(repo.create({ name: 'Nest', email: 'n@x' }));
    expect((await qc.cached(repo).findOneBy({ id: u.id }))?.name).toBe('Nest');
    const selects = logger.selects.length;
    expect((await qc.cached(repo).findOneBy({ id: u.id }))?.name).toBe('Nest');
    expect(logger.selects.length).toBe(selects);
    await repo.update({ id: u.id }, { name: 'Nest 2' });
    expect((await qc.cached(repo).findOneBy({ id: u.id }))?.name).toBe('Nest 2');
  });
});
