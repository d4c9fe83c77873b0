import { startAuthInstance, startAuthPair, type AuthInstance, type AuthPair } from '../support/auth-app';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const TOO_MANY = { statusCode: 429, error: 'Too Many Requests', message: 'Too many requests' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Login limits count failures, not attempts: per (email, IP) pair tightly,
 * per email across every address with a growing backoff, and every attempt
 * per IP. Shared through Redis by two instances, per instance while Redis is
 * down. Client addresses are set with Fastify inject's `remoteAddress` (the
 * app reads `request.ip`).
 */
describe('Login rate limiting', () => {
  let pair: AuthPair;
  let a: AuthInstance;
  let b: AuthInstance;

  beforeAll(async () => {
    pair = await startAuthPair({
      THROTTLE_AUTH_LIMIT: '8',
      THROTTLE_AUTH_TTL: '60',
      THROTTLE_LOGIN_PAIR_LIMIT: '3',
      THROTTLE_LOGIN_EMAIL_LIMIT: '6',
      THROTTLE_LOGIN_BACKOFF_BASE: '1',
      THROTTLE_LOGIN_BACKOFF_MAX: '4',
      REDIS_COMMAND_TIMEOUT_MS: '200',
    });
    ({ a, b } = pair);
  });

  afterAll(() => pair?.close());

  const login = (instance: AuthInstance, ip: string, email: string, password = 'wrong password') =>
    instance.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: { email, password } });
  const statuses = async (attempts: Array<() => ReturnType<typeof login>>) => {
    const out: number[] = [];
    for (const attempt of attempts) out.push((await attempt()).statusCode);
    return out;
  };

  it('stops an attacker’s address after 3 failures, across both instances, but not the owner elsewhere', async () => {
    const owner = await a.client.register('owner');
    const attacker = '10.1.0.1';
    expect(await statuses([a, b, a].map((i) => () => login(i, attacker, owner.email)))).toEqual([401, 401, 401]);
    const limited = await login(b, attacker, owner.email);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual(TOO_MANY);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(900);
    // The attacker's address stays stopped, however long it keeps trying, even with the right password…
    const more = Array.from({ length: 10 }, (_, i) => () => login(i % 2 ? a : b, attacker, owner.email));
    expect(new Set(await statuses(more))).toEqual(new Set([429]));
    expect((await login(a, attacker, owner.email, owner.password)).statusCode).toBe(429);
    // …while the owner, from another address, logs in on either instance.
    for (const instance of [a, b]) {
      const res = await login(instance, '10.1.0.2', owner.email, owner.password);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ tokenType: 'Bearer' });
    }
    // The counters are in Redis under the app's prefix, hashed: no email or address in a key.
    const keys = await redisKeys();
    expect(keys.some((k) => k.includes(':rl:login:'))).toBe(true);
    expect(keys.join(' ')).not.toMatch(/owner|10\.1\.0/);
  });

  it('counts an IPv6 caller by its /56: a fresh address from the same network does not reset its failures', async () => {
    const owner = await a.client.register('v6-owner');
    const network = ['2001:db8:7:100::1', '2001:db8:7:1aa::2', '2001:db8:7:1ff:ffff::3'];
    expect(await statuses(network.map((ip, i) => () => login(i % 2 ? b : a, ip, owner.email)))).toEqual([
      401, 401, 401,
    ]);
    expect((await login(b, '2001:db8:7:142::beef', owner.email)).statusCode).toBe(429);
    // Another /56 is another caller.
    expect((await login(a, '2001:db8:7:200::1', owner.email, owner.password)).statusCode).toBe(200);
  });

  it('answers an unknown email exactly as a wrong password (401s, then the same 429)', async () => {
    const owner = await a.client.register('known');
    const run = async (email: string, ip: string) => {
      const replies = [];
      for (const instance of [a, b, a, b]) replies.push(await login(instance, ip, email));
      return replies.map((r) => ({ status: r.statusCode, body: r.json<unknown>() }));
    };
    const known = await run(owner.email, '10.1.1.1');
    const unknown = await run('nobody-here@example.com', '10.1.1.2');
    expect(unknown).toEqual(known);
    expect(known.map((r) => r.status)).toEqual([401, 401, 401, 429]);
  });

  it('resets the pair’s failures on a successful login', async () => {
    const owner = await a.client.register('forgetful');
    const ip = '10.2.0.1';
    const wrong = () => login(a, ip, owner.email);
    expect(await statuses([wrong, wrong, () => login(b, ip, owner.email, owner.password)])).toEqual([401, 401, 200]);
    expect(await statuses([wrong, wrong, wrong, wrong])).toEqual([401, 401, 401, 429]);
  });

  it('backs an email off after 6 failures from many addresses, with a Retry-After that grows', async () => {
    const owner = await a.client.register('targeted');
    // However the email is spelled: the count is per account.
    const spellings = [owner.email, ` ${owner.email.toUpperCase()}`, `${owner.email}\t`];
    const attempts = Array.from(
      { length: 6 },
      (_, i) => () => login(i % 2 ? b : a, `10.3.0.${i + 1}`, spellings[i % spellings.length]),
    );
    expect(await statuses(attempts)).toEqual([401, 401, 401, 401, 401, 401]);
    const waits: number[] = [];
    for (let step = 0; step < 3; step++) {
      // During the backoff even the owner's right password, from a fresh address, waits.
      const refused = await login(step % 2 ? a : b, `10.3.1.${step}`, owner.email, owner.password);
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toEqual(TOO_MANY);
      waits.push(Number(refused.headers['retry-after']));
      await sleep(waits[step] * 1000 + 100);
      // One more failure after the wait: admitted (401), and the next backoff is twice as long.
      expect((await login(step % 2 ? b : a, `10.3.2.${step}`, owner.email)).statusCode).toBe(401);
    }
    expect(waits).toEqual([1, 2, 4]);
    // The ceiling (4 s): the next wait does not grow past it, and after it the owner gets in.
    const capped = await login(a, '10.3.3.1', owner.email, owner.password);
    expect(Number(capped.headers['retry-after'])).toBe(4);
    await sleep(4_100);
    expect((await login(b, '10.3.3.1', owner.email, owner.password)).statusCode).toBe(200);
  });

  it('limits every login attempt per address (credential stuffing over many emails)', async () => {
    const ip = '10.5.0.1';
    const attempts = Array.from({ length: 9 }, (_, i) => () => login(i % 2 ? b : a, ip, `stuffed-${i}@example.com`));
    const result = await statuses(attempts);
    expect(result).toEqual([401, 401, 401, 401, 401, 401, 401, 401, 429]);
  });

  it('still limits the pair, per instance, while Redis is down; the owner still gets in', async () => {
    const owner = await a.client.register('outage');
    await pair.redis.kill();
    try {
      const attempts = Array.from({ length: 4 }, () => () => login(a, '10.4.0.1', owner.email));
      expect(await statuses(attempts)).toEqual([401, 401, 401, 429]);
      expect((await login(a, '10.4.0.2', owner.email, owner.password)).statusCode).toBe(200);
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
