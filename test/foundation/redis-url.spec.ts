import { createClient, type RedisClientOptions } from '@redis/client';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, runToExit } from '../support/app-process';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { TestRedisServer, redisTlsSupport } from '../support/redis-server';

/** A password with every character that must be percent-encoded in a URL's userinfo. */
const PASSWORD = 'p@ss:w/rd%';
const WRONG_PASSWORD = 'Wr0ng:p@ss/w%rd';
const PREFIX = 'urlspec';

/** Every spelling of a password that must never reach the output. */
const spellings = (password: string) => [password, encodeURIComponent(password)];

function expectNoSecret(output: string): void {
  for (const secret of [...spellings(PASSWORD), ...spellings(WRONG_PASSWORD)]) expect(output).not.toContain(secret);
}

/** Registers and logs in a fresh account over HTTP, so the app writes rate-limit counters and a session to Redis. */
async function registerAndLogin(app: AppProcess): Promise<string> {
  const account = {
    email: `u${randomBytes(5).toString('hex')}@example.com`,
    name: 'Url',
    password: 'correct horse battery',
  };
  expect((await app.send('POST', '/api/v1/auth/register', { body: account })).status).toBe(201);
  const login = await app.send('POST', '/api/v1/auth/login', {
    body: { email: account.email, password: account.password },
  });
  expect(login.status).toBe(200);
  return login.body.accessToken as string;
}

/** An independent client of the test's own, closed by the caller. */
async function observe(options: RedisClientOptions) {
  const client = createClient(options);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The app's keys (inside its prefix) in the observer's database. */
async function appKeys(client: Awaited<ReturnType<typeof observe>>): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${PREFIX}:*`, COUNT: 100 })) keys.push(...batch);
  return keys;
}

describe('compiled app with a URL-encoded password and database 3 in REDIS_URL', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-redis-url-'));
  let server: TestRedisServer;
  let db: TestDatabase;

  beforeAll(async () => {
    [server, db] = await Promise.all([TestRedisServer.start({ password: PASSWORD }), createTestDatabase()]);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  const env = (redisUrl: string, backend: string) => ({
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    CACHE_BACKEND: backend,
    CACHE_PREFIX: PREFIX,
    REDIS_CONNECT_TIMEOUT_MS: '3000',
    THROTTLE_AUTH_LIMIT: '1000',
  });

  it('authenticates, selects database 3 on every connection, and writes its keys there', async () => {
    const app = await AppProcess.start(env(server.urlFor(3), 'redis'), cwd);
    const [db3, db0] = await Promise.all([observe({ url: server.urlFor(3) }), observe({ url: server.urlFor(0) })]);
    try {
      const redisCheck = await app.get('/health/redis');
      expect(redisCheck.status).toBe(200);
      // The probes answer anyone: where Redis runs is not in them (the admin API's health has it).
      expect(redisCheck.body.details.redis).toEqual({ status: 'up', latencyMs: expect.any(Number) });
      expect(app.output).toContain(`Redis ready at redis://***@127.0.0.1:${server.port}/3`);
      await registerAndLogin(app);
      expect((await appKeys(db3)).length).toBeGreaterThan(0);
      expect(await db0.dbSize()).toBe(0);
      const clients = (await db3.clientList()).filter((c) => c.name.startsWith(`${PREFIX}-api`));
      expect(clients.map((c) => [c.name, c.db]).sort()).toEqual([
        [`${PREFIX}-api`, 3],
        [`${PREFIX}-api-sub`, 3],
      ]);
    } finally {
      db3.destroy();
      db0.destroy();
      await app.stop();
    }
    expectNoSecret(app.output);
  });

  it('refuses to start with CACHE_BACKEND=redis and a wrong password, naming WRONGPASS and printing no password', async () => {
    const { code, output } = await runToExit(env(server.urlFor(3, WRONG_PASSWORD), 'redis'), cwd);
    expect(code).not.toBe(0);
    expect(output).toMatch(/Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+\/3 refused authentication \(WRONGPASS /);
    expect(output).toContain('CACHE_BACKEND=redis requires it');
    expect(output).not.toMatch(/\n\s+at /);
    expectNoSecret(output);
  });

  it('serves with CACHE_BACKEND=auto and a wrong password, logging why Redis is not used and no password', async () => {
    const app = await AppProcess.start({ ...env(server.urlFor(3, WRONG_PASSWORD), 'auto'), LOG_LEVEL: 'debug' }, cwd);
    try {
      expect(app.output).toMatch(/refused authentication \(WRONGPASS [^"]*: serving without it, retrying/);
      const ready = await app.get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details.redis).toMatchObject({ status: 'degraded', fallback: 'memory' });
      await registerAndLogin(app);
    } finally {
      await app.stop();
    }
    expectNoSecret(app.output);
  });
});

describe('compiled app with the passwords in REDIS_PASSWORD and DATABASE_PASSWORD, beside password-less URLs', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-redis-password-'));
  let server: TestRedisServer;
  let db: TestDatabase;

  beforeAll(async () => {
    [server, db] = await Promise.all([TestRedisServer.start({ password: PASSWORD }), createTestDatabase()]);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  /** The URL of database 3 with no credentials: the password travels in REDIS_PASSWORD only. */
  const bareUrl = () => `redis://127.0.0.1:${server.port}/3`;
  const env = (redisPassword: string) => ({
    // The local Postgres trusts local connections, so it does not check this password; the app must
    // still connect with it in its connection string (percent-encoded: `@ : / %` would break the URL).
    DATABASE_URL: db.url,
    DATABASE_PASSWORD: PASSWORD,
    REDIS_URL: bareUrl(),
    REDIS_PASSWORD: redisPassword,
    CACHE_BACKEND: 'redis',
    CACHE_PREFIX: PREFIX,
    REDIS_CONNECT_TIMEOUT_MS: '3000',
    THROTTLE_AUTH_LIMIT: '1000',
    LOG_LEVEL: 'debug',
  });

  it('authenticates with the password as written (no percent-encoding) and serves from Postgres, printing neither', async () => {
    expect(new URL(db.url).password).toBe('');
    const app = await AppProcess.start(env(PASSWORD), cwd);
    const db3 = await observe({ url: server.urlFor(3) });
    try {
      const redisCheck = await app.get('/health/redis');
      expect(redisCheck.status).toBe(200);
      expect(app.output).toContain(`Redis ready at redis://***@127.0.0.1:${server.port}/3`);
      const ready = await app.get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details.database.status).toBe('up');
      await registerAndLogin(app);
      expect((await appKeys(db3)).length).toBeGreaterThan(0);
    } finally {
      db3.destroy();
      await app.stop();
    }
    expectNoSecret(app.output);
  });

  it('refuses to start with a wrong REDIS_PASSWORD, naming WRONGPASS and printing no password', async () => {
    const { code, output } = await runToExit(env(WRONG_PASSWORD), cwd);
    expect(code).not.toBe(0);
    expect(output).toMatch(/Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+\/3 refused authentication \(WRONGPASS /);
    expect(output).toContain('CACHE_BACKEND=redis requires it');
    expectNoSecret(output);
  });

  it('refuses to start when a URL carries a password too, naming both variables and printing neither', async () => {
    const { code, output } = await runToExit(
      {
        ...env(PASSWORD),
        REDIS_URL: server.urlFor(3, WRONG_PASSWORD),
        DATABASE_URL: `postgres://root:${encodeURIComponent(WRONG_PASSWORD)}@127.0.0.1:5432/${db.name}`,
      },
      cwd,
    );
    expect(code).not.toBe(0);
    expect(output).toContain('- DATABASE_PASSWORD: cannot be set together with a password in DATABASE_URL');
    expect(output).toContain('- REDIS_PASSWORD: cannot be set together with a password in REDIS_URL');
    expectNoSecret(output);
  });
});

const tls = redisTlsSupport();
if (!tls.supported) {
  // Said out loud, not skipped in silence: the title below carries the reason too.
  console.warn(`Skipping the rediss:// tests: ${tls.reason}`);
}
const describeTls = tls.supported ? describe : describe.skip;

describeTls(
  tls.supported
    ? 'compiled app with a rediss:// REDIS_URL (TLS)'
    : `compiled app with a rediss:// REDIS_URL (TLS) — SKIPPED: ${tls.reason}`,
  () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bp-redis-tls-app-'));
    let server: TestRedisServer;
    let db: TestDatabase;

    beforeAll(async () => {
      [server, db] = await Promise.all([
        TestRedisServer.start({ tls: true, password: PASSWORD }),
        createTestDatabase(),
      ]);
    });

    afterAll(async () => {
      await server?.stop();
      await db?.drop();
      rmSync(cwd, { recursive: true, force: true });
    });

    const env = (extra: Record<string, string> = {}) => ({
      DATABASE_URL: db.url,
      REDIS_URL: server.urlFor(2),
      CACHE_BACKEND: 'redis',
      CACHE_PREFIX: PREFIX,
      REDIS_CONNECT_TIMEOUT_MS: '3000',
      THROTTLE_AUTH_LIMIT: '1000',
      ...extra,
    });

    it('connects over TLS to a server whose CA it trusts (NODE_EXTRA_CA_CERTS) and writes its keys there', async () => {
      expect(server.url).toMatch(/^rediss:\/\//);
      const caFile = server.caFile as string;
      const app = await AppProcess.start(env({ NODE_EXTRA_CA_CERTS: caFile }), cwd);
      const db2 = await observe({ url: server.urlFor(2), socket: { tls: true, ca: readFileSync(caFile) } });
      try {
        const redisCheck = await app.get('/health/redis');
        expect(redisCheck.status).toBe(200);
        expect(app.output).toContain(`Redis ready at rediss://***@127.0.0.1:${server.port}/2`);
        await registerAndLogin(app);
        // The server has no plaintext port: these keys can only have arrived over TLS.
        expect((await appKeys(db2)).length).toBeGreaterThan(0);
      } finally {
        db2.destroy();
        await app.stop();
      }
      expectNoSecret(app.output);
    });

    it('refuses to start when it does not trust the server certificate, naming the TLS failure', async () => {
      const { code, output } = await runToExit(env(), cwd);
      expect(code).not.toBe(0);
      expect(output).toMatch(/Redis at rediss:\/\/\*\*\*@127\.0\.0\.1:\d+\/2 failed the TLS handshake \(/);
      expect(output).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT/);
      expectNoSecret(output);
    });
  },
);
