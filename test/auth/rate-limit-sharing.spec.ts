import { createClient } from '@redis/client';
import { getStorageToken } from '@nestjs/throttler';
import { RedisConnection } from '@app/redis';
import { startAuthInstance, startAuthPair, type AuthInstance, type AuthPair } from '../support/auth-app';
import { waitFor } from '../support/free-port';

/** What `SharedThrottlerStorage.flush` offers the tests (the storage itself is internal to the auth library). */
interface Flushable {
  flush(): Promise<void>;
}

const newClient = (url: string) => createClient({ url });

/** `call` on a client of its own, connected to `url` for the call. */
async function onRedis<T>(url: string, call: (client: ReturnType<typeof newClient>) => Promise<T>): Promise<T> {
  const client = newClient(url);
  await client.connect();
  try {
    return await call(client);
  } finally {
    await client.close();
  }
}

/** Calls per command since the last `CONFIG RESETSTAT`, from Redis's own `INFO commandstats`. */
async function commandCalls(url: string): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  const info = await onRedis(url, (c) => c.info('commandstats'));
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
  return calls;
}

const resetStats = (url: string) => onRedis(url, (c) => c.configResetStat());

const ADMIN_COMMANDS = new Set(['info', 'config|resetstat', 'config', 'client|setinfo', 'hello', 'client|setname']);
/** The sync script and the commands it runs (Redis counts those too). */
const SYNC_COMMANDS = new Set(['evalsha', 'eval', 'type', 'hget', 'hincrby', 'hset', 'pexpire', 'pttl']);

/** Every window's shared total under the app's prefix. */
async function sharedTotals(url: string, prefix: string): Promise<number[]> {
  return onRedis(url, async (c) => {
    const keys = await c.keys(`${prefix}:rl:default:*`);
    return (await Promise.all(keys.map((k) => c.hGet(k, 'n')))).map(Number);
  });
}

/**
 * The general per-user limit: counted in memory, shared through Redis in
 * batches (no Redis command per request), enforced across instances, and
 * never waiting on a paused Redis.
 */
describe('General rate limit shared in batches', () => {
  let pair: AuthPair;
  let a: AuthInstance;
  let b: AuthInstance;
  let tokenA: string;

  beforeAll(async () => {
    pair = await startAuthPair({
      THROTTLE_LIMIT: '30',
      // Each test registers and logs in a user of its own: more than the default 10 per IP.
      THROTTLE_AUTH_LIMIT: '100',
      THROTTLE_TTL: '60',
      // Long enough that the test, not the timer, decides when counts are shared.
      THROTTLE_SYNC_MS: '60000',
      REDIS_COMMAND_TIMEOUT_MS: '300',
    });
    ({ a, b } = pair);
    const user = await a.client.register('limited');
    tokenA = (await a.client.login(user.email, user.password)).accessToken;
    // The anonymous register and login were counted per IP: send those now, so the tests below see only theirs.
    await flush(a);
  });

  afterAll(() => pair?.close());

  function flush(instance: AuthInstance): Promise<void> {
    return instance.app.get<Flushable>(getStorageToken()).flush();
  }
  const ping = (instance: AuthInstance, token: string) =>
    instance.client.request('GET', '/api/v1/ping/auth', { token }).then((r) => r.statusCode);

  it('sends no Redis command per request: 25 requests, one batched sync (INFO commandstats)', async () => {
    await resetStats(pair.redis.url);
    const statuses = [];
    for (let i = 0; i < 25; i++) statuses.push(await ping(a, tokenA));
    expect(statuses.every((s) => s === 200)).toBe(true);
    const during = await commandCalls(pair.redis.url);
    const appCommands = Object.entries(during).filter(([name]) => !ADMIN_COMMANDS.has(name));
    expect(appCommands).toEqual([]);
    await flush(a);
    const after = await commandCalls(pair.redis.url);
    // One script call per caller key (EVALSHA, and EVAL if Redis did not have the script yet),
    // which adds all 25 hits at once (one HINCRBY) and reads the total back.
    const scriptCalls = (after.evalsha ?? 0) + (after.eval ?? 0);
    expect(scriptCalls).toBeGreaterThanOrEqual(1);
    expect(scriptCalls).toBeLessThanOrEqual(2);
    expect(after).toMatchObject({ hincrby: 1 });
    const others = Object.keys(after).filter((name) => !ADMIN_COMMANDS.has(name) && !SYNC_COMMANDS.has(name));
    expect(others).toEqual([]);
  });

  it('enforces one limit across instances once their counts are shared', async () => {
    // A has counted 25 of 30 and sent them. B learns the total at its first sync.
    expect(await ping(b, tokenA)).toBe(200);
    await flush(b);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push(await ping(b, tokenA));
    // 26 after B's first request; 4 more are allowed, then 429.
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    await flush(b);
    // A learns B's hits at its own next sync, which its next request makes due:
    // that request may still pass (the documented lag of one sync interval).
    expect([200, 429]).toContain(await ping(a, tokenA));
    await flush(a);
    const limited = await a.client.request('GET', '/api/v1/ping/auth', { token: tokenA });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ statusCode: 429, error: 'Too Many Requests', message: 'Too many requests' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('tells the caller its budget in X-RateLimit-* headers', async () => {
    const user = await b.client.register('budget');
    const token = (await b.client.login(user.email, user.password)).accessToken;
    const res = await b.client.request('GET', '/api/v1/ping/auth', { token });
    expect(res.headers).toMatchObject({ 'x-ratelimit-limit': '30', 'x-ratelimit-remaining': '29' });
    expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
  });

  it('keeps answering at once, counting in memory, while Redis is paused', async () => {
    const user = await a.client.register('paused');
    const token = (await a.client.login(user.email, user.password)).accessToken;
    const redis = a.app.get(RedisConnection);
    pair.redis.pause();
    try {
      // Syncs fail against the paused server until the connection's breaker opens.
      await waitFor(
        async () => {
          await flush(a);
          return !redis.available;
        },
        10_000,
        'the shared Redis breaker to open',
      );
      const slowest = await timedRequests(a, token, 20);
      // No request waited on the paused server (its deadline is 300 ms).
      expect(slowest.statuses.every((s) => s === 200)).toBe(true);
      expect(slowest.ms).toBeLessThan(300);
      // The limit still holds, per instance: 30 in this window.
      const rest = [];
      for (let i = 0; i < 11; i++) rest.push(await ping(a, token));
      expect(rest.slice(0, 10).every((s) => s === 200)).toBe(true);
      expect(rest[10]).toBe(429);
    } finally {
      pair.redis.resume();
    }
    await waitFor(() => redis.available, 10_000, 'Redis to be available again');
    // The counts made during the outage reach Redis.
    await flush(a);
    expect(await sharedTotals(pair.redis.url, pair.env.CACHE_PREFIX)).toContain(31);
  });

  it('does not count hits twice when a sync ran on Redis after missing its deadline', async () => {
    const user = await a.client.register('late-sync');
    const token = (await a.client.login(user.email, user.password)).accessToken;
    for (let i = 0; i < 5; i++) expect(await ping(a, token)).toBe(200);
    // The sync waits on the paused server past its 300 ms deadline; Redis runs it once resumed.
    pair.redis.pause();
    try {
      await flush(a);
    } finally {
      pair.redis.resume();
    }
    const redis = a.app.get(RedisConnection);
    await waitFor(() => redis.available, 10_000, 'Redis to be available again');
    expect(await ping(a, token)).toBe(200);
    await flush(a);
    expect(await onRedis(pair.redis.url, (c) => c.hGet(windowKey(user.id), 'n'))).toBe('6');
  });

  it('gives a window back every hit counted on both instances when Redis restarts empty mid-window', async () => {
    const user = await a.client.register('restarted-empty');
    const token = (await a.client.login(user.email, user.password)).accessToken;
    for (let i = 0; i < 4; i++) expect(await ping(a, token)).toBe(200);
    await flush(a);
    for (let i = 0; i < 2; i++) expect(await ping(b, token)).toBe(200);
    await flush(b);
    expect(await onRedis(pair.redis.url, (c) => c.hGet(windowKey(user.id), 'n'))).toBe('6');
    const ttlBefore = await onRedis(pair.redis.url, (c) => c.pTTL(windowKey(user.id)));
    // Redis crashes and comes back without its keys; the window has most of its minute to go.
    await pair.redis.kill();
    await pair.redis.restart();
    for (const instance of [a, b]) {
      const redis = instance.app.get(RedisConnection);
      await waitFor(() => redis.available, 10_000, 'Redis to be available again');
    }
    expect(await ping(a, token)).toBe(200);
    await flush(a);
    // A's whole count (5), not only its hit since the restart, and the window keeps its end.
    expect(await onRedis(pair.redis.url, (c) => c.hGet(windowKey(user.id), 'n'))).toBe('5');
    expect(await onRedis(pair.redis.url, (c) => c.pTTL(windowKey(user.id)))).toBeLessThanOrEqual(ttlBefore);
    expect(await ping(b, token)).toBe(200);
    await flush(b);
    expect(await onRedis(pair.redis.url, (c) => c.hGet(windowKey(user.id), 'n'))).toBe('8');
  });

  it('sends the hits it has not shared yet when it shuts down (a rolling deploy forgets none)', async () => {
    const user = await a.client.register('shutdown');
    const token = (await a.client.login(user.email, user.password)).accessToken;
    const leaving = await startAuthInstance(pair.env);
    try {
      for (let i = 0; i < 4; i++) expect(await ping(leaving, token)).toBe(200);
    } finally {
      await leaving.app.close();
    }
    // No sync ran before the shutdown (the interval is a minute): the close sent them.
    expect(await onRedis(pair.redis.url, (c) => c.hGet(windowKey(user.id), 'n'))).toBe('4');
  });

  it('takes over a counter of the earlier format (a string INCRBY wrote) with its total and TTL', async () => {
    const user = await a.client.register('earlier-format');
    const token = (await a.client.login(user.email, user.password)).accessToken;
    await onRedis(pair.redis.url, (c) => c.set(windowKey(user.id), '7', { expiration: { type: 'PX', value: 40_000 } }));
    for (let i = 0; i < 3; i++) expect(await ping(a, token)).toBe(200);
    await flush(a);
    const [type, total, ttl] = await onRedis(pair.redis.url, (c) =>
      Promise.all([c.type(windowKey(user.id)), c.hGet(windowKey(user.id), 'n'), c.pTTL(windowKey(user.id))]),
    );
    expect({ type, total }).toEqual({ type: 'hash', total: '10' });
    expect(ttl).toBeGreaterThan(30_000);
    expect(ttl).toBeLessThanOrEqual(40_000);
  });

  it('shares the other windows of a sync when Redis refuses one, and leaves the refused key as it is', async () => {
    const users = await Promise.all(['refused-list', 'refused-text', 'refused-peer'].map((n) => a.client.register(n)));
    const tokens = await Promise.all(users.map(async (u) => (await a.client.login(u.email, u.password)).accessToken));
    const [list, text, peer] = users.map((u) => windowKey(u.id));
    // Keys the sync cannot take: another type, and a string that is no count.
    await onRedis(pair.redis.url, (c) => Promise.all([c.rPush(list, 'x'), c.set(text, 'not-a-count')]));
    for (const token of tokens) for (let i = 0; i < 3; i++) expect(await ping(a, token)).toBe(200);
    await flush(a);
    const [peerTotal, listItems, textValue] = await onRedis(pair.redis.url, (c) =>
      Promise.all([c.hGet(peer, 'n'), c.lRange(list, 0, -1), c.get(text)]),
    );
    expect({ peerTotal, listItems, textValue }).toEqual({
      peerTotal: '3',
      listItems: ['x'],
      textValue: 'not-a-count',
    });
    // The refused callers are still limited, per instance, and answered without an error.
    expect(await ping(a, tokens[0])).toBe(200);
    expect(a.app.get(RedisConnection).available).toBe(true);
  });

  /** The general limit's window of a user in Redis. */
  function windowKey(userId: string): string {
    return `${pair.env.CACHE_PREFIX}:rl:default:{default:u:${userId}}`;
  }

  async function timedRequests(instance: AuthInstance, token: string, n: number) {
    const statuses: number[] = [];
    let ms = 0;
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      statuses.push(await ping(instance, token));
      ms = Math.max(ms, performance.now() - started);
    }
    return { statuses, ms };
  }
});
