import { CacheService } from '@app/cache';
import { startAuthPair, type AuthInstance, type AuthPair } from '../support/auth-app';
import { waitFor } from '../support/free-port';

/**
 * The membership check is a security gate read through the query cache.
 * While Redis is down an instance cannot hear another's invalidations, so
 * its L1 may hold a membership that was removed; the gate's entries are
 * short-lived so that access ends within seconds, not at the query TTL.
 */
describe('Boardroom access while Redis is down', () => {
  let pair: AuthPair;
  let a: AuthInstance;
  let b: AuthInstance;

  beforeAll(async () => {
    pair = await startAuthPair({
      THROTTLE_AUTH_LIMIT: '1000',
      REDIS_COMMAND_TIMEOUT_MS: '200',
      REDIS_RECONNECT_MAX_DELAY_MS: '200',
    });
    ({ a, b } = pair);
  });

  afterAll(() => pair?.close());

  it('ends a removed member’s access on the other instance within seconds', async () => {
    const login = async (name: string) => {
      const account = await a.client.register(name);
      return { ...account, token: (await a.client.login(account.email, account.password)).accessToken };
    };
    const owner = await login('Owner');
    const member = await login('Member');
    const call = (
      instance: AuthInstance,
      method: 'GET' | 'POST' | 'DELETE',
      url: string,
      token: string,
      body?: unknown,
    ) => instance.client.request(method, `/api/v1${url}`, { token, body });
    const room = (await call(a, 'POST', '/boardrooms', owner.token, { name: 'Gated' })).json();
    await call(a, 'POST', `/boardrooms/${room.id}/members`, owner.token, { userId: member.id });
    expect((await call(b, 'GET', `/boardrooms/${room.id}`, member.token)).statusCode).toBe(200);

    await pair.redis.kill();
    try {
      const breakerOpen = (instance: AuthInstance) =>
        (instance.app.get(CacheService).status() as { breaker?: string }).breaker === 'open';
      await waitFor(() => breakerOpen(a) && breakerOpen(b), 5_000, 'both breakers to open');
      expect((await call(a, 'DELETE', `/boardrooms/${room.id}/members/${member.id}`, owner.token)).statusCode).toBe(
        204,
      );
      await waitFor(
        async () => (await call(b, 'GET', `/boardrooms/${room.id}`, member.token)).statusCode === 404,
        10_000, // the membership entry lives 5 s; the query TTL is 300 s
        'B to refuse the removed member',
      );
    } finally {
      await pair.redis.restart();
    }
  });
});
