import { Client } from 'pg';
import { startAuthInstance, type AuthInstance } from '../support/auth-app';
import { uniquePrefix } from '../support/cache-instance';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

/** Postgres must not grow forever: ended sessions and expired revocations are purged. */
describe('Auth housekeeping', () => {
  let db: TestDatabase;
  let pg: Client;
  const instances: AuthInstance[] = [];
  const env = () => ({ DATABASE_URL: db.url, CACHE_BACKEND: 'memory', CACHE_PREFIX: uniquePrefix() });

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
  });

  afterAll(async () => {
    for (const instance of instances) await instance.app.close();
    await pg?.end();
    await db?.drop();
  });

  it('deletes sessions ended over a day ago (with their rotated hashes) and expired revocations, keeps the rest', async () => {
    const a = await startAuthInstance(env());
    instances.push(a);
    await pg.connect();
    const user = await a.client.register();
    const sessions = [];
    for (let i = 0; i < 4; i++) {
      const tokens = await a.client.login(user.email, user.password);
      sessions.push(tokens.refreshToken.split('.')[0]);
    }
    // Rotate one so it has a hash in auth_refresh_rotations.
    const rotated = await a.client.login(user.email, user.password);
    await a.client.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: rotated.refreshToken } });
    const rotatedId = rotated.refreshToken.split('.')[0];
    const [expiredLongAgo, revokedLongAgo, revokedRecently, live] = sessions;
    await pg.query(`UPDATE auth_sessions SET expires_at = now() - interval '2 days' WHERE id = ANY($1)`, [
      [expiredLongAgo, rotatedId],
    ]);
    await pg.query(`UPDATE auth_sessions SET revoked_at = now() - interval '2 days' WHERE id = $1`, [revokedLongAgo]);
    await pg.query(`UPDATE auth_sessions SET revoked_at = now() - interval '1 hour' WHERE id = $1`, [revokedRecently]);
    await pg.query(
      `INSERT INTO auth_revocations (kind, subject, expires_at) VALUES ('jti', 'old', now() - interval '1 hour'),
         ('jti', 'current', now() + interval '1 hour')`,
    );
    expect((await pg.query(`SELECT 1 FROM auth_refresh_rotations WHERE session_id = $1`, [rotatedId])).rowCount).toBe(
      1,
    );

    // A booting instance loads the revocations and purges right away.
    instances.push(await startAuthInstance(env()));

    const left = await pg.query<{ id: string }>(`SELECT id FROM auth_sessions WHERE user_id = $1`, [user.id]);
    expect(left.rows.map((r) => r.id).sort()).toEqual([revokedRecently, live].sort());
    expect((await pg.query(`SELECT 1 FROM auth_refresh_rotations`)).rowCount).toBe(0);
    const subjects = await pg.query<{ subject: string }>(`SELECT subject FROM auth_revocations WHERE kind = 'jti'`);
    expect(subjects.rows.map((r) => r.subject)).toEqual(['current']);
  });
});
