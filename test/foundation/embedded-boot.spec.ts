import { PGlite } from '@electric-sql/pglite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess } from '../support/app-process';

/** Opens the app's PGlite directory while the app is stopped (PGlite is single-process). */
async function withPglite<T>(dataDir: string, fn: (db: PGlite) => Promise<T>): Promise<T> {
  const db = await PGlite.create({ dataDir });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

describe('compiled app with no configuration at all', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-embedded-'));
  const dataDir = join(cwd, 'data', 'pglite');
  let app: AppProcess;

  afterAll(async () => {
    await app?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('boots on embedded PGlite and the memory cache, and is ready', async () => {
    // No .env in cwd, and AppProcess strips DATABASE_URL, REDIS_URL and friends.
    app = await AppProcess.start({}, cwd);
    const ready = await app.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details.database.status).toBe('up');
    expect(ready.body.details.redis).toMatchObject({ status: 'up', enabled: false });
    expect(app.output).toContain('REDIS_URL unset: no Redis connection, memory only');
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    expect(await app.stop()).toBe(0);
  });

  it('keeps its data in ./data/pglite across restarts, running each migration once', async () => {
    const migrated = await withPglite(dataDir, async (db) => {
      const rows = (await db.query<{ name: string }>('SELECT name FROM migrations')).rows;
      await db.query(`INSERT INTO users (email, name, password_hash) VALUES ('keep@example.com', 'Keep', 'x')`);
      return rows.map((r) => r.name);
    });
    expect(migrated).toContain('CreateUsers1763780000000');

    await app.restart();
    expect((await app.get('/health/ready')).status).toBe(200);
    expect(await app.stop()).toBe(0);

    await withPglite(dataDir, async (db) => {
      const users = (await db.query<{ email: string }>('SELECT email FROM users')).rows;
      expect(users.map((u) => u.email)).toEqual(['keep@example.com']);
      const again = (await db.query<{ name: string }>('SELECT name FROM migrations')).rows.map((r) => r.name);
      expect(again).toEqual(migrated);
    });
  });
});
