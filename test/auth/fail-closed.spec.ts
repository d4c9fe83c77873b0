import { Client } from 'pg';
import { DEV_JWT_SECRET } from '../../apps/api/src/config/env.schema';
import { startAuthInstance, type AuthInstance } from '../support/auth-app';
import { waitFor } from '../support/free-port';
import { signHs256 } from '../support/jwt';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

/**
 * An instance that has never loaded the revocation state must not let tokens
 * in: with Postgres unreachable at start-up, protected routes answer 503
 * (never 200), and the instance recovers once Postgres is back.
 */
describe('Revocation state fails closed', () => {
  let db: TestDatabase;
  let admin: Client;
  let instance: AuthInstance;

  const setConnections = async (allow: boolean) => {
    await admin.query(`ALTER DATABASE "${db.name}" WITH ALLOW_CONNECTIONS ${allow}`);
    if (!allow)
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [db.name]);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new Client({ connectionString: db.url.replace(`/${db.name}`, '/postgres') });
    await admin.connect();
  });

  afterAll(async () => {
    await instance?.app.close();
    await setConnections(true).catch(() => undefined);
    await admin?.end();
    await db?.drop();
  });

  it('answers 503 until the revocations are loaded, then serves', async () => {
    // The app is built (data source connected, migrations run) but not started.
    instance = await startAuthInstance({ DATABASE_URL: db.url, AUTH_REVOCATION_POLL_MS: '200' }, false);
    const user = new Client({ connectionString: db.url });
    await user.connect();
    const { rows } = await user.query<{ id: string }>(
      `INSERT INTO users (email, name, password_hash) VALUES ('x@example.com', 'X', 'x') RETURNING id`,
    );
    await user.end();
    const now = Math.floor(Date.now() / 1000);
    const token = signHs256(
      {
        sub: rows[0].id,
        role: 'user',
        sid: '00000000-0000-4000-8000-000000000000',
        jti: '00000000-0000-4000-8000-000000000001',
        iat: now,
        exp: now + 600,
      },
      DEV_JWT_SECRET,
    );

    await setConnections(false);
    await instance.app.init();
    await instance.app.getHttpAdapter().getInstance().ready();
    const res = await instance.client.request('GET', '/api/v1/auth/me', { token });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Authentication is temporarily unavailable',
    });
    // A bad token is still a 401: nothing about it depends on the revocation state.
    expect(await instance.client.me('garbage')).toBe(401);

    await setConnections(true);
    await waitFor(async () => (await instance.client.me(token)) === 200, 10_000, 'the revocations to load');
  });
});
