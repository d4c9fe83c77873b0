import { PGlite } from '@electric-sql/pglite';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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
    expect(ready.body.details.redis).toMatchObject({ status: 'disabled', enabled: false });
    expect((await app.get('/health/redis')).body.details.redis).toMatchObject({ status: 'disabled' });
    expect(app.output).toContain('no Redis connection, memory only');
    // No JWT_SECRET: tokens are signed with the public development secret, so it listens on loopback only.
    expect(app.output).toMatch(/listening on http:\/\/127\.0\.0\.1:/);
    expect(app.output).toMatch(/JWT_SECRET is unset.*public secret, so the API listens on this machine only/);
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

describe('compiled app on embedded PGlite in a DATA_DIR of its own', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-embedded-cwd-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'bp-embedded-data-'));
  let app: AppProcess | undefined;

  afterAll(async () => {
    await app?.stop();
    rmSync(cwd, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps an account registered over HTTP across a restart: login, /auth/me and the old session still work', async () => {
    app = await AppProcess.start({ DATA_DIR: dataDir }, cwd);
    expect(app.output).toContain('no Redis connection, memory only');
    const credentials = { email: `r${randomBytes(5).toString('hex')}@example.com`, password: 'correct horse battery' };
    const registered = await app.send('POST', '/api/v1/auth/register', { body: { ...credentials, name: 'Restart' } });
    expect(registered.status).toBe(201);
    const before = await app.send('POST', '/api/v1/auth/login', { body: credentials });
    expect(before.status).toBe(200);
    expect(await app.stop()).toBe(0);
    // The data went to DATA_DIR/pglite, not to ./data under the working directory.
    expect(existsSync(join(dataDir, 'pglite'))).toBe(true);
    expect(existsSync(join(cwd, 'data'))).toBe(false);

    await app.restart();
    const login = await app.send('POST', '/api/v1/auth/login', { body: credentials });
    expect(login.status).toBe(200);
    const me = await app.send('GET', '/api/v1/auth/me', { token: login.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: registered.body.id, email: credentials.email, name: 'Restart' });
    // The refresh session from before the restart lives in PGlite too (no Redis here): it still rotates.
    const refreshed = await app.send('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: before.body.refreshToken },
    });
    expect(refreshed.status).toBe(200);

    // AI conversations on PGlite: the same migrations, row lock and appends as on Postgres.
    const token = login.body.accessToken;
    const room = await app.send('POST', '/api/v1/boardrooms', { token, body: { name: 'Embedded' } });
    const created = await app.send('POST', `/api/v1/boardrooms/${room.body.id}/conversations`, { token, body: {} });
    expect(created.status).toBe(201);
    const path = `/api/v1/conversations/${created.body.id}/messages`;
    const posts = await Promise.all(
      ['one', 'two', 'three'].map((content) =>
        app!.send('POST', path, { token, body: { content }, timeoutMs: 10_000 }),
      ),
    );
    expect(posts.map((p) => p.status)).toEqual([201, 201, 201]);
    const page = await app.send('GET', path, { token });
    expect(page.body.map((m: { seq: number; status: string }) => [m.seq, m.status])).toEqual(
      [1, 2, 3, 4, 5, 6].map((seq) => [seq, 'complete']),
    );
    expect(await app.stop()).toBe(0);
  }, 120_000); // two PGlite boots and argon2 on a shared 2-core machine
});
