import { randomUUID } from 'node:crypto';
import { startE2eApp, type E2eApp } from '../../../test/support/e2e-app';

/**
 * `TRUST_PROXY`: the client's address (`request.ip`: the login limits, the
 * sessions' `ip`, the request log) comes from `X-Forwarded-For` only when the
 * socket's peer is a listed proxy. Seen here through the session a login
 * records.
 */
describe('TRUST_PROXY (e2e)', () => {
  const started: E2eApp[] = [];

  afterAll(() => Promise.all(started.map((s) => s.close())));

  /** The address the app recorded for a login sent from `remoteAddress` with `forwardedFor`. */
  async function recordedAddress(env: Record<string, string>, remoteAddress: string, forwardedFor: string) {
    const app = await startE2eApp({ THROTTLE_AUTH_LIMIT: '1000', ...env });
    started.push(app);
    const credentials = { email: `p${randomUUID().slice(0, 8)}@example.com`, password: 'proxy-password-1' };
    const send = (url: string, payload: object, token?: string) =>
      app.app.inject({
        method: url.endsWith('sessions') ? 'GET' : 'POST',
        url,
        remoteAddress,
        headers: { 'x-forwarded-for': forwardedFor, ...(token && { authorization: `Bearer ${token}` }) },
        ...(url.endsWith('sessions') ? {} : { payload }),
      });
    expect((await send('/api/v1/auth/register', { ...credentials, name: 'P' })).statusCode).toBe(201);
    const { accessToken } = (await send('/api/v1/auth/login', credentials)).json<{ accessToken: string }>();
    const sessions = (await send('/api/v1/auth/sessions', {}, accessToken)).json<Array<{ ip: string }>>();
    return sessions[0].ip;
  }

  it('believes X-Forwarded-For from a listed proxy only', async () => {
    expect(await recordedAddress({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }, '127.0.0.1', '203.0.113.7')).toBe(
      '203.0.113.7',
    );
    expect(
      await recordedAddress({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }, '10.1.2.3', '198.51.100.1, 203.0.113.8'),
    ).toBe('203.0.113.8');
    // A client that is no listed proxy cannot choose its own address.
    expect(await recordedAddress({ TRUST_PROXY: 'loopback' }, '192.0.2.44', '203.0.113.9')).toBe('192.0.2.44');
  });

  it('believes no X-Forwarded-For without TRUST_PROXY', async () => {
    expect(await recordedAddress({}, '127.0.0.1', '203.0.113.10')).toBe('127.0.0.1');
  });
});
