import { randomBytes } from 'node:crypto';
import { startAuthInstance, type AuthInstance } from '../support/auth-app';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

/**
 * `Authorization: Bearer <token>` as RFC 9110 §11.4 spells it (the scheme in
 * any case, then one or more spaces), read the same way by the API's guard
 * and by `/metrics` with a `METRICS_TOKEN`.
 */
describe('Bearer credentials', () => {
  const metricsToken = randomBytes(24).toString('base64url');
  let db: TestDatabase;
  let instance: AuthInstance;
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    instance = await startAuthInstance({ DATABASE_URL: db.url, METRICS_TOKEN: metricsToken });
    const user = await instance.client.register('bearer');
    token = (await instance.client.login(user.email, user.password)).accessToken;
  });

  afterAll(async () => {
    await instance?.app.close();
    await db?.drop();
  });

  const status = (url: string, authorization?: string) =>
    instance.app
      .inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } })
      .then((r) => r.statusCode);

  it.each(['Bearer', 'bearer', 'BEARER', 'Bearer  '])('takes the scheme %j followed by the token', async (scheme) => {
    expect(await status('/api/v1/auth/me', `${scheme} ${token}`)).toBe(200);
    expect(await status('/metrics', `${scheme} ${metricsToken}`)).toBe(200);
  });

  it.each([
    ['no header', undefined],
    ['the scheme alone', 'Bearer'],
    ['no space after the scheme', 'Bearer{token}'],
    ['another scheme', 'Basic {token}'],
    ['two tokens', 'Bearer {token} {token}'],
  ])('refuses %s with 401', async (_what, header) => {
    expect(await status('/api/v1/auth/me', header?.replaceAll('{token}', token))).toBe(401);
    expect(await status('/metrics', header?.replaceAll('{token}', metricsToken))).toBe(401);
  });

  it('refuses another metrics token, and an API token on /metrics', async () => {
    expect(await status('/metrics', `Bearer ${metricsToken}x`)).toBe(401);
    expect(await status('/metrics', `Bearer ${token}`)).toBe(401);
  });
});
