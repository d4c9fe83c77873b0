/**
 * Query cache benchmark: cached vs uncached `findOne` and a paged list, on
 * Postgres and on PGlite, against TypeORM's built-in Redis query cache, in
 * one run, on a redis-server of its own. `npm run bench:query`; writes
 * bench/results/query-cache.md and prints it.
 */
import { Logger } from '@nestjs/common';
import { QueryCache } from '@app/query-cache';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createTestDatabase } from '../test/support/postgres';
import { progress } from './lib/progress';
import {
  BenchUser,
  openDataSource,
  openTieredCache,
  ours,
  seed,
  typeormRedis,
  uncached,
  type Engine,
} from './lib/query-contenders';
import { measure, renderQueryReport, type QueryRow } from './lib/query-scenarios';
import { BenchRedisServer, redisVersion } from './lib/redis-server';

const RESULTS = join(process.cwd(), 'bench', 'results', 'query-cache.md');

/** Every contender on one engine: its own data sources, caches under their own prefixes. */
async function runEngine(name: string, engine: Engine, redisUrl: string): Promise<QueryRow[]> {
  const plain = await openDataSource(engine);
  const withOrmCache = await openDataSource(engine, { cache: { type: 'redis', options: { url: redisUrl } } });
  const prefix = `bq${name.length}${engine.kind}`;
  const tiered = await openTieredCache(redisUrl, prefix);
  // A second instance on the same Redis whose L1 holds one entry: its reads are L2 hits.
  const remote = await openTieredCache(redisUrl, prefix, 1);
  try {
    await seed(plain);
    const qc = new QueryCache(plain, tiered.cache.namespace('query')).attach();
    const qcRemote = new QueryCache(plain, remote.cache.namespace('query'));
    const repo = plain.getRepository(BenchUser);
    progress(`${name}: measuring`);
    return await measure(name, [
      uncached(repo),
      typeormRedis(withOrmCache.getRepository(BenchUser)),
      ours(qc, repo),
      ours(qcRemote, repo, 'ours, L2 hit (other instance, 1-entry L1)'),
    ]);
  } finally {
    await remote.close();
    await tiered.close();
    await withOrmCache.destroy();
    await plain.destroy();
  }
}

async function postgresVersion(url: string): Promise<string> {
  const ds = await openDataSource({ kind: 'postgres', url });
  try {
    const [{ server_version }] = await ds.query<Array<{ server_version: string }>>('SHOW server_version');
    return `PostgreSQL ${server_version} (local, TCP)`;
  } finally {
    await ds.destroy();
  }
}

async function main(): Promise<void> {
  Logger.overrideLogger(['error', 'warn']);
  const server = await BenchRedisServer.start();
  const db = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'bench-pglite-'));
  try {
    const rows = [
      ...(await runEngine('Postgres', { kind: 'postgres', url: db.url }, server.url)),
      ...(await runEngine('PGlite', { kind: 'pglite', dir }, server.url)),
    ];
    const meta = {
      node: process.version,
      redis: await redisVersion(server.url),
      postgres: await postgresVersion(db.url),
    };
    const report = renderQueryReport(rows, meta);
    await mkdir(dirname(RESULTS), { recursive: true });
    await writeFile(RESULTS, report);
    process.stdout.write(report);
    progress(`written to ${RESULTS}`);
  } finally {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
