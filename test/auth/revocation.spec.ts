import { createClient } from '@redis/client';
import { RevocationService } from '@app/auth';
import { RedisConnection } from '@app/redis';
import { startAuthInstance, startAuthPair, type AuthInstance, type AuthPair } from '../support/auth-app';
import { waitFor } from '../support/free-port';

/**
 * Revocation across instances, against a Redis server the test owns. The
 * Postgres poll is set to a minute, so anything seen within a second came
 * over the bus, and anything seen after a Redis outage came from the
 * reload on reconnect.
 */
describe('Token revocation across instances', () => {
  let pair: AuthPair;
  let a: AuthInstance;
  let b: AuthInstance;

  beforeAll(async () => {
    pair = await startAuthPair({
      THROTTLE_AUTH_LIMIT: '1000',
      AUTH_REVOCATION_POLL_MS: '60000',
      REDIS_COMMAND_TIMEOUT_MS: '200',
      REDIS_RECONNECT_MAX_DELAY_MS: '200',
    });
    ({ a, b } = pair);
  });

  afterAll(() => pair?.close());

  async function loggedIn(instance = a) {
    const user = await instance.client.register();
    return { user, ...(await instance.client.login(user.email, user.password)) };
  }

  /** Pings a paused Redis until `redis` counts it unavailable (three calls in a row missed their deadline). */
  async function countedUnavailable(redis: RedisConnection): Promise<void> {
    await waitFor(
      async () => {
        await redis.run((client) => client.ping()).catch(() => undefined);
        return !redis.available;
      },
      10_000,
      'the connection to count the paused Redis as unavailable',
    );
  }

  async function flushAll(): Promise<void> {
    const client = createClient({ url: pair.redis.url });
    await client.connect();
    await client.flushAll();
    await client.close();
  }

  it('makes a token logged out on A a 401 on B within a second (bus), and keeps it 401 after FLUSHALL', async () => {
    const { accessToken } = await loggedIn();
    expect(await b.client.me(accessToken)).toBe(200);
    expect((await a.client.request('POST', '/api/v1/auth/logout', { token: accessToken })).statusCode).toBe(204);
    await waitFor(async () => (await b.client.me(accessToken)) === 401, 1_000, 'B to refuse the revoked token');

    await flushAll();
    expect(await a.client.me(accessToken)).toBe(401);
    expect(await b.client.me(accessToken)).toBe(401);

    // A new instance after the flush has nothing in Redis to read: it loads Postgres.
    const c = await startAuthInstance(pair.env);
    try {
      expect(c.app.get(RevocationService).ready).toBe(true);
      expect(await c.client.me(accessToken)).toBe(401);
    } finally {
      await c.app.close();
    }
  });

  it('ends the tokens of the user’s other sessions everywhere on logout-all', async () => {
    const { user, accessToken } = await loggedIn();
    const other = await b.client.login(user.email, user.password);
    expect((await a.client.request('POST', '/api/v1/auth/logout-all', { token: accessToken })).statusCode).toBe(204);
    await waitFor(async () => (await b.client.me(other.accessToken)) === 401, 1_000, 'B to refuse the other session');
    expect(await a.client.me(other.accessToken)).toBe(401);
  });

  it('keeps revocations through a Redis restart, and learns those made while Redis was down on reconnect', async () => {
    const before = await loggedIn();
    await a.client.request('POST', '/api/v1/auth/logout', { token: before.accessToken });
    await waitFor(async () => (await b.client.me(before.accessToken)) === 401, 1_000, 'B to refuse the token');

    const during = await loggedIn();
    await pair.redis.kill();
    // Postgres takes the revocation; the bus cannot carry it while Redis is down.
    expect((await a.client.request('POST', '/api/v1/auth/logout', { token: during.accessToken })).statusCode).toBe(204);
    expect(await a.client.me(during.accessToken)).toBe(401);
    await pair.redis.restart();

    await waitFor(async () => (await b.client.me(during.accessToken)) === 401, 10_000, 'B to reload on reconnect');
    expect(await b.client.me(before.accessToken)).toBe(401);
    expect(await a.client.me(before.accessToken)).toBe(401);
    // The bus works again after the restart.
    const after = await loggedIn();
    await a.client.request('POST', '/api/v1/auth/logout', { token: after.accessToken });
    await waitFor(async () => (await b.client.me(after.accessToken)) === 401, 1_000, 'B to hear the bus again');
  });

  it('keeps sessions whole after Redis lost everything (Postgres is the truth)', async () => {
    const first = await loggedIn();
    await flushAll();
    // A login after the flush must not leave a list that shows only the new session.
    const second = await a.client.login(first.user.email, first.user.password);
    const list = await b.client.request('GET', '/api/v1/auth/sessions', { token: second.accessToken });
    expect(list.statusCode).toBe(200);
    const ids = list.json<Array<{ id: string }>>().map((s) => s.id);
    expect(ids).toHaveLength(2);
    const refreshed = await b.client.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: first.refreshToken },
    });
    expect(refreshed.statusCode).toBe(200);
  });

  it('ends a session named by its id in capitals, on every instance; an id that is no UUID is a 400', async () => {
    const first = await loggedIn();
    const second = await a.client.login(first.user.email, first.user.password);
    const list = await a.client.request('GET', '/api/v1/auth/sessions', { token: second.accessToken });
    const { sid } = JSON.parse(Buffer.from(first.accessToken.split('.')[1], 'base64url').toString()) as { sid: string };
    expect(list.json<Array<{ id: string }>>().map((s) => s.id)).toContain(sid);
    // Before: 404 "Session not found" (the id was compared as sent), and the session stayed live.
    const ended = await a.client.request('DELETE', `/api/v1/auth/sessions/${sid.toUpperCase()}`, {
      token: second.accessToken,
    });
    expect(ended.statusCode).toBe(204);
    await waitFor(async () => (await b.client.me(first.accessToken)) === 401, 1_000, 'B to refuse the ended session');
    const malformed = await a.client.request('DELETE', '/api/v1/auth/sessions/not-a-uuid', {
      token: second.accessToken,
    });
    expect(malformed.statusCode).toBe(400);
  });

  it('sends nothing to a paused Redis once it counts as unavailable: the logout holds (Postgres) without its deadline', async () => {
    const { accessToken } = await loggedIn();
    const redis = a.app.get(RedisConnection);
    const publish = jest.spyOn(redis, 'publish');
    const channel = `${pair.env.CACHE_PREFIX}:bus:auth`;
    pair.redis.pause();
    try {
      // Three calls in a row miss their deadline: the connection counts Redis as unavailable.
      await countedUnavailable(redis);
      publish.mockClear();
      expect((await a.client.request('POST', '/api/v1/auth/logout', { token: accessToken })).statusCode).toBe(204);
      // Before, the bus checked only that the socket was up, and a logout waited out two deadlines.
      expect(publish.mock.calls.filter(([to]) => to === channel)).toEqual([]);
      expect(await a.client.me(accessToken)).toBe(401);
    } finally {
      publish.mockRestore();
      pair.redis.resume();
    }
    await waitFor(() => redis.available, 10_000, 'Redis to be available again');
    expect(await a.client.me(accessToken)).toBe(401);
  });

  it('refuses on B, within the uncovered poll, a token logged out on A while Redis is paused', async () => {
    const { accessToken } = await loggedIn();
    expect(await b.client.me(accessToken)).toBe(200);
    const connections = [a, b].map((instance) => instance.app.get(RedisConnection));
    pair.redis.pause();
    try {
      // Both connections count the paused Redis as unavailable; their subscriber sockets stay open.
      for (const redis of connections) await countedUnavailable(redis);
      expect((await a.client.request('POST', '/api/v1/auth/logout', { token: accessToken })).statusCode).toBe(204);
      // No bus can carry it: B must re-read Postgres every 500 ms, not every AUTH_REVOCATION_POLL_MS (60 s here).
      await waitFor(async () => (await b.client.me(accessToken)) === 401, 5_000, 'B to refuse the revoked token');
    } finally {
      pair.redis.resume();
    }
    await waitFor(() => connections.every((redis) => redis.available), 10_000, 'Redis to be available again');
  });
});
