import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import {
  MIGRATIONS_LOCK_KEY,
  createDataSource,
  runMigrationsExclusively,
} from '../../apps/api/src/database/data-source.factory';
import { dataSourceOptions } from '../../apps/api/src/database/data-source-options';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const options = (url: string, migrationsRun = true) =>
  dataSourceOptions({ kind: 'postgres', url, migrationsRun, queryTimeoutMs: 5_000, connectTimeoutMs: 5_000 });

/** Migration names and how often each ran (empty before the table exists). */
async function applied(url: string): Promise<Record<string, number>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; n: number }>(
      `SELECT name, count(*)::int AS n FROM migrations GROUP BY name`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.n]));
  } catch {
    return {};
  } finally {
    await client.end();
  }
}

/** Instances booting together on one Postgres run the migrations one after the other, under an advisory lock. */
describe('Migrations on Postgres, under an advisory lock', () => {
  let db: TestDatabase;
  const opened: DataSource[] = [];

  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const source of opened.splice(0)) await source.destroy();
    await db.drop();
  });

  it('waits while another session holds the lock, then migrates', async () => {
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [MIGRATIONS_LOCK_KEY]);
    let done = false;
    const booting = createDataSource(options(db.url)).then((source) => {
      done = true;
      opened.push(source);
    });
    await new Promise((r) => setTimeout(r, 700));
    expect(done).toBe(false);
    expect(await applied(db.url)).toEqual({});
    await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATIONS_LOCK_KEY]);
    await holder.end();
    await booting;
    expect(Object.keys(await applied(db.url)).length).toBeGreaterThan(3);
  });

  it('runs each migration once when five instances boot at the same moment', async () => {
    opened.push(...(await Promise.all(Array.from({ length: 5 }, () => createDataSource(options(db.url))))));
    const counts = await applied(db.url);
    expect(Object.keys(counts).length).toBeGreaterThan(3);
    expect(Object.values(counts).every((n) => n === 1)).toBe(true);
  });

  it('fails the boot, naming the lock, when another instance never lets go of it', async () => {
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [MIGRATIONS_LOCK_KEY]);
    try {
      const source = await createDataSource(options(db.url, false));
      opened.push(source);
      await expect(runMigrationsExclusively(source, 300)).rejects.toThrow(/held the migrations lock/);
      expect(await applied(db.url)).toEqual({});
    } finally {
      await holder.end();
    }
  });
});
