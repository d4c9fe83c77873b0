import { SessionService, UserAccountsService, UserEntity } from '@app/auth';
import { DataSource } from 'typeorm';
import { startAuthInstance, type AuthInstance } from '../support/auth-app';
import { waitFor } from '../support/free-port';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

/** A pause a test holds a service call in, to line up a race deterministically. */
function gate() {
  let open!: () => void;
  let arrived!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  return {
    reached,
    open,
    async hold(): Promise<void> {
      arrived();
      await opened;
    },
  };
}

/**
 * Role changes, deletions and the admin bootstrap against live tokens: an
 * account change takes effect on every token and refresh token issued before
 * it, including those of a login that raced it.
 */
describe('Account changes and live tokens', () => {
  let db: TestDatabase;
  let app: AuthInstance;
  const admin = { email: 'admin@example.com', password: 'admin-password-1' };
  const env = () => ({
    DATABASE_URL: db.url,
    THROTTLE_AUTH_LIMIT: '1000',
    AUTH_REVOCATION_POLL_MS: '200',
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startAuthInstance(env());
  });

  afterAll(async () => {
    await app?.app.close();
    await db?.drop();
  });

  afterEach(() => jest.restoreAllMocks());

  const adminToken = async () => (await app.client.login(admin.email, admin.password)).accessToken;
  const setRole = async (id: string, role: 'user' | 'admin') =>
    (await app.client.request('PATCH', `/api/v1/users/${id}`, { token: await adminToken(), body: { role } }))
      .statusCode;
  /** An admin-only route: 404 for an admin (no such user), 403 for a user, 401 for a refused token. */
  const adminRoute = async (token: string) =>
    (await app.client.request('DELETE', '/api/v1/users/00000000-0000-4000-8000-000000000000', { token })).statusCode;
  /** A route that does not look the caller up: only the token decides. */
  const anyRoute = async (token: string) =>
    (await app.client.request('GET', '/api/v1/users?limit=1', { token })).statusCode;

  it('makes a role change apply to tokens issued before it', async () => {
    const user = await app.client.register('Promoted');
    expect(await setRole(user.id, 'admin')).toBe(200);
    const asAdmin = await app.client.login(user.email, user.password);
    expect(await adminRoute(asAdmin.accessToken)).toBe(404);

    expect(await setRole(user.id, 'user')).toBe(200);
    expect(await adminRoute(asAdmin.accessToken)).toBe(401);
    const refresh = await app.client.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: asAdmin.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
    expect(await adminRoute((await app.client.login(user.email, user.password)).accessToken)).toBe(403);
  });

  it('gives no admin token to a login that checked the password before a demotion', async () => {
    const user = await app.client.register('Demoted');
    expect(await setRole(user.id, 'admin')).toBe(200);
    const accounts = app.app.get(UserAccountsService);
    const verify = accounts.verifyCredentials.bind(accounts);
    const pause = gate();
    jest.spyOn(accounts, 'verifyCredentials').mockImplementationOnce(async (email, password) => {
      const found = await verify(email, password); // read while still admin
      await pause.hold();
      return found;
    });
    const login = app.client.request('POST', '/api/v1/auth/login', {
      body: { email: user.email, password: user.password },
    });
    await pause.reached;
    expect(await setRole(user.id, 'user')).toBe(200);
    pause.open();
    const res = await login;
    expect(res.statusCode).toBe(200);
    expect([401, 403]).toContain(await adminRoute(res.json().accessToken));
  });

  it('refuses (401, not 500) a login whose user is deleted after the password check', async () => {
    const user = await app.client.register('Gone');
    const accounts = app.app.get(UserAccountsService);
    const verify = accounts.verifyCredentials.bind(accounts);
    const pause = gate();
    jest.spyOn(accounts, 'verifyCredentials').mockImplementationOnce(async (email, password) => {
      const found = await verify(email, password);
      await pause.hold();
      return found;
    });
    const login = app.client.request('POST', '/api/v1/auth/login', {
      body: { email: user.email, password: user.password },
    });
    await pause.reached;
    const deleted = await app.client.request('DELETE', `/api/v1/users/${user.id}`, { token: await adminToken() });
    expect(deleted.statusCode).toBe(204);
    pause.open();
    const res = await login;
    expect(res.statusCode).toBe(401);
  });

  it('revokes the token of a login that opened its session while the user was being deleted', async () => {
    const user = await app.client.register('Racing');
    const sessions = app.app.get(SessionService);
    const endAll = sessions.endAll.bind(sessions);
    const pause = gate();
    // The delete has ended the sessions it found and not yet deleted the user when the login runs.
    jest.spyOn(sessions, 'endAll').mockImplementationOnce(async (id) => {
      const ended = await endAll(id);
      await pause.hold();
      return ended;
    });
    const token = await adminToken();
    const deletion = app.client.request('DELETE', `/api/v1/users/${user.id}`, { token });
    await pause.reached;
    const raced = await app.client.login(user.email, user.password);
    pause.open();
    expect((await deletion).statusCode).toBe(204);
    expect(await anyRoute(raced.accessToken)).toBe(401);
  });

  it('ends the sessions of an account the admin bootstrap takes over, and only when it changes it', async () => {
    // Someone registered the future admin email first and holds a session.
    const squatter = await app.client.register('Squatter');
    const held = await app.client.login(squatter.email, squatter.password);
    const operator = { ADMIN_EMAIL: squatter.email, ADMIN_PASSWORD: 'operator-password-1' };
    const next = await startAuthInstance({ ...env(), ...operator });
    try {
      const refresh = await next.client.request('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: held.refreshToken },
      });
      expect(refresh.statusCode).toBe(401);
      expect(await next.client.me(held.accessToken)).toBe(401);
      await waitFor(async () => (await app.client.me(held.accessToken)) === 401, 5_000, 'the first instance to poll');

      // The same settings at the next boot change nothing: the admin's own sessions survive it.
      const own = await next.client.login(squatter.email, operator.ADMIN_PASSWORD);
      const again = await startAuthInstance({ ...env(), ...operator });
      try {
        expect(await again.client.me(own.accessToken)).toBe(200);
        expect(await adminRoute(own.accessToken)).toBe(404);
      } finally {
        await again.app.close();
      }
    } finally {
      await next.app.close();
    }
  });

  it('creates the admin once when several instances boot at once (the others take it over)', async () => {
    const operator = { ADMIN_EMAIL: 'first-boot@example.com', ADMIN_PASSWORD: 'operator-password-2' };
    const other = await startAuthInstance({ ...env(), ...operator });
    try {
      const dataSource = other.app.get(DataSource);
      await dataSource.query(`DELETE FROM users WHERE email = $1`, [operator.ADMIN_EMAIL]);
      // Three boots' bootstrap at once, each inserting only once all three have found no account.
      const users = dataSource.getRepository(UserEntity);
      const save = users.save.bind(users);
      const allThere = gate();
      let waiting = 0;
      jest.spyOn(users, 'save').mockImplementation((async (entity: UserEntity) => {
        if (++waiting === 3) allThere.open();
        await allThere.hold();
        return save(entity);
      }) as never);
      const accounts = other.app.get(UserAccountsService);
      const boots = await Promise.allSettled([1, 2, 3].map(() => accounts.onApplicationBootstrap()));
      jest.restoreAllMocks();
      expect(boots.map((b) => b.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    } finally {
      await other.app.close();
    }
    const token = (await app.client.login(operator.ADMIN_EMAIL, operator.ADMIN_PASSWORD)).accessToken;
    expect(await adminRoute(token)).toBe(404);
  });
});
