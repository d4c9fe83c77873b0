import { startAuthInstance, startAuthPair, type AuthInstance, type AuthPair } from '../support/auth-app';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

/** Login throttling shared through Redis by two instances, and per instance while Redis is down. */
describe('Login rate limiting', () => {
  let pair: AuthPair;
  let a: AuthInstance;
  let b: AuthInstance;

  beforeAll(async () => {
    pair = await startAuthPair({
      THROTTLE_AUTH_LIMIT: '3',
      THROTTLE_AUTH_TTL: '60',
      REDIS_COMMAND_TIMEOUT_MS: '200',
    });
    ({ a, b } = pair);
  });

  afterAll(() => pair?.close());

  const attempt = (instance: AuthInstance, email: string) =>
    instance.client.request('POST', '/api/v1/auth/login', { body: { email, password: 'wrong password' } });

  it('shares the login limit across instances and answers 429 with Retry-After', async () => {
    const statuses = [];
    for (const instance of [a, b, a]) statuses.push((await attempt(instance, 'victim@example.com')).statusCode);
    expect(statuses).toEqual([401, 401, 401]);
    const limited = await attempt(b, 'victim@example.com');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toEqual({ statusCode: 429, error: 'Too Many Requests', message: 'Too many requests' });
    // The counters are in Redis under the app's prefix, hashed (no email in a key).
    const keys = await redisKeys();
    expect(keys.some((k) => k.includes(':rl:auth-email:'))).toBe(true);
    expect(keys.join(' ')).not.toContain('victim');
  });

  it('counts an email per account however it is spelled, from any address', async () => {
    const from = (ip: string, email: string) =>
      a.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: ip,
        payload: { email, password: 'wrong password' },
      });
    const spellings = ['target@example.com', ' TARGET@example.com', 'Target@Example.com\t'];
    const statuses = [];
    for (const [i, email] of spellings.entries()) statuses.push((await from(`10.0.0.${i + 1}`, email)).statusCode);
    expect(statuses).toEqual([401, 401, 401]);
    // Padding the email past 254 characters (trimmed away by validation) still hits its counter.
    expect((await from('10.0.0.9', `${' '.repeat(300)}target@example.com`)).statusCode).toBe(429);
  });

  it('still limits, per instance, while Redis is down', async () => {
    await pair.redis.kill();
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await attempt(a, 'other@example.com')).statusCode);
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      await pair.redis.restart();
    }
  });

  async function redisKeys(): Promise<string[]> {
    const { createClient } = await import('@redis/client');
    const client = createClient({ url: pair.redis.url });
    await client.connect();
    try {
      return await client.keys('*');
    } finally {
      await client.close();
    }
  }
});

describe('General per-user rate limit', () => {
  let db: TestDatabase;
  let app: AuthInstance;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startAuthInstance({ DATABASE_URL: db.url, THROTTLE_LIMIT: '5', THROTTLE_AUTH_LIMIT: '100' });
  });

  afterAll(async () => {
    await app?.app.close();
    await db?.drop();
  });

  it('counts per user, not per address: one user’s burst does not limit another', async () => {
    const tokens = [];
    for (const name of ['first', 'second']) {
      const user = await app.client.register(name);
      tokens.push((await app.client.login(user.email, user.password)).accessToken);
    }
    const first = [];
    for (let i = 0; i < 6; i++) first.push(await app.client.me(tokens[0]));
    expect(first).toEqual([200, 200, 200, 200, 200, 429]);
    expect(await app.client.me(tokens[1])).toBe(200);
    // Probes are never limited.
    for (let i = 0; i < 10; i++) expect((await app.client.request('GET', '/health/live')).statusCode).toBe(200);
  });
});
