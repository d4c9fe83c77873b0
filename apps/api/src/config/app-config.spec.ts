import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ConfigValidationError, validateEnv } from './app-config';
import { EXAMPLE_JWT_SECRET } from './env.schema';

function problems(env: Record<string, string>): string[] {
  try {
    validateEnv(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return [...error.problems];
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe(validateEnv.name, () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = validateEnv({});
    expect(config.http).toEqual({
      // No JWT_SECRET: the public development secret signs, so only this machine may connect.
      host: '127.0.0.1',
      port: 3000,
      bodyLimit: 1024 * 1024,
      json: { maxDepth: 20, maxKeys: 200, maxTotalKeys: 2_000, maxArrayLength: 1_000 },
      timeouts: { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 72_000 },
      shutdownTimeoutMs: 10_000,
    });
    expect(config.database).toMatchObject({ kind: 'pglite', migrationsRun: true });
    expect(config.database.kind === 'pglite' && config.database.dataDir.endsWith('/data/pglite')).toBe(true);
    expect(config.redis.url).toBeUndefined();
    expect(config.cache).toEqual({
      backend: 'auto',
      prefix: 'bp',
      l1MaxEntries: 10_000,
      l1MaxBytes: 64 * 1024 * 1024,
      defaultTtlMs: 300_000,
      queryTtlMs: 300_000,
      httpTtlMs: 600_000,
      httpGraceMs: 300_000,
    });
  });

  it('listens on every interface only when tokens are not signed with a public secret, unless HOST says', () => {
    const host = (env: Record<string, string>) => validateEnv(env).http.host;
    const secret = 'a-real-secret-of-at-least-32-characters';
    expect(validateEnv({}).auth.jwt.publicSecret).toBe(true);
    expect(host({ JWT_SECRET: EXAMPLE_JWT_SECRET })).toBe('127.0.0.1');
    expect(host({ JWT_SECRET: secret })).toBe('0.0.0.0');
    expect(validateEnv({ JWT_SECRET: secret }).auth.jwt.publicSecret).toBe(false);
    expect(host({ HOST: '0.0.0.0' })).toBe('0.0.0.0');
    expect(host({ JWT_SECRET: secret, HOST: '10.0.0.5' })).toBe('10.0.0.5');
  });

  it('names every bad variable at once', () => {
    const found = problems({ PORT: 'abc', REDIS_URL: 'http://x', CACHE_BACKEND: 'foo' });
    expect(found).toHaveLength(3);
    expect(found.find((p) => p.startsWith('PORT:'))).toMatch(/integer/);
    expect(found.find((p) => p.startsWith('REDIS_URL:'))).toMatch(/redis:\/\//);
    expect(found.find((p) => p.startsWith('CACHE_BACKEND:'))).toMatch(/auto, redis or memory/);
  });

  it('reads TRUST_PROXY as a list of proxies, and refuses true, a count and what is no address', () => {
    expect(validateEnv({}).http.trustProxy).toBeUndefined();
    expect(validateEnv({ TRUST_PROXY: 'false' }).http.trustProxy).toBeUndefined();
    expect(validateEnv({ TRUST_PROXY: ' loopback, 10.0.0.0/8,2001:db8::/32 , 192.0.2.1' }).http.trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
      '2001:db8::/32',
      '192.0.2.1',
    ]);
    for (const value of ['true', '2', '10.0.0.0/33', 'proxy.internal', '10.0.0.0/8,', '::1/129'])
      expect([value, problems({ TRUST_PROXY: value }).map((p) => p.split(':')[0])]).toEqual([value, ['TRUST_PROXY']]);
  });

  it('rejects out-of-range ports and unknown booleans', () => {
    expect(
      problems({ PORT: '70000', HTTP_LOG: 'maybe' })
        .map((p) => p.split(':')[0])
        .sort(),
    ).toEqual(['HTTP_LOG', 'PORT']);
  });

  it('reads the body limits and HTTP timeouts, and refuses a headers timeout above the request timeout', () => {
    const config = validateEnv({
      BODY_MAX_DEPTH: '5',
      BODY_MAX_KEYS: '6',
      BODY_MAX_TOTAL_KEYS: '7',
      BODY_MAX_ARRAY_LENGTH: '8',
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '3000',
    });
    expect(config.http.json).toEqual({ maxDepth: 5, maxKeys: 6, maxTotalKeys: 7, maxArrayLength: 8 });
    expect(config.http.timeouts).toEqual({ headersMs: 1000, requestMs: 2000, keepAliveMs: 3000 });
    expect(problems({ HTTP_HEADERS_TIMEOUT_MS: '40000' })).toEqual([
      'HTTP_HEADERS_TIMEOUT_MS: must not be above HTTP_REQUEST_TIMEOUT_MS',
    ]);
    expect(problems({ BODY_MAX_DEPTH: '0' })).toEqual(['BODY_MAX_DEPTH: must be at least 1']);
  });

  it('requires REDIS_URL when CACHE_BACKEND=redis', () => {
    expect(problems({ CACHE_BACKEND: 'redis' })).toEqual([
      'REDIS_URL: is required when CACHE_BACKEND=redis (or REDIS_SENTINELS, or REDIS_CLUSTER_NODES)',
    ]);
  });

  it('never echoes a secret-bearing URL in its message', () => {
    const message = problems({ DATABASE_URL: 'mysql://u:s3cr3t@db/x', REDIS_URL: 'http://:hunter2@r' }).join('\n');
    expect(message).not.toMatch(/s3cr3t|hunter2/);
  });

  it('uses Postgres when DATABASE_URL is set and keeps Redis off in memory mode', () => {
    const config = validateEnv({
      DATABASE_URL: 'postgres://u:p@localhost:5432/db',
      REDIS_URL: 'rediss://:pw@cache:6380/2',
      CACHE_BACKEND: 'memory',
    });
    expect(config.database).toEqual({
      kind: 'postgres',
      url: 'postgres://u:p@localhost:5432/db',
      migrationsRun: true,
      queryTimeoutMs: 5_000,
      connectTimeoutMs: 5_000,
    });
    expect(config.redis.url).toBeUndefined();
  });

  it('accepts a TLS Redis URL with a database index and rejects a non-numeric one', () => {
    expect(validateEnv({ REDIS_URL: 'rediss://:pw@cache:6380/2' }).redis.url).toBe('rediss://:pw@cache:6380/2');
    expect(problems({ REDIS_URL: 'redis://cache:6379/abc' })).toEqual([
      'REDIS_URL: has a database index that is not a number',
    ]);
  });

  it('restricts the key prefix to characters safe in Redis keys and channels', () => {
    expect(problems({ CACHE_PREFIX: 'a b' })[0]).toMatch(/^CACHE_PREFIX:/);
    expect(validateEnv({ CACHE_PREFIX: 'svc_1-a' }).cache.prefix).toBe('svc_1-a');
  });

  describe('DATABASE_PASSWORD and REDIS_PASSWORD', () => {
    /** Every character that must be percent-encoded in a URL's userinfo, given as is. */
    const PASSWORD = 'p@ss:w/rd%';
    const ENCODED = 'p%40ss%3Aw%2Frd%25';

    it('put the password, percent-encoded, into a URL that has none', () => {
      const config = validateEnv({
        DATABASE_URL: 'postgres://boardroom@postgres:5432/boardroom?sslmode=disable',
        DATABASE_PASSWORD: PASSWORD,
        REDIS_URL: 'redis://redis:6379/0',
        REDIS_PASSWORD: PASSWORD,
      });
      expect(config.database).toMatchObject({
        kind: 'postgres',
        url: `postgres://boardroom:${ENCODED}@postgres:5432/boardroom?sslmode=disable`,
      });
      expect(config.redis.url).toBe(`redis://:${ENCODED}@redis:6379/0`);
      expect(decodeURIComponent(new URL(config.redis.url!).password)).toBe(PASSWORD);
      // An ACL user in the URL keeps its name.
      expect(validateEnv({ REDIS_URL: 'rediss://app@cache:6380', REDIS_PASSWORD: PASSWORD }).redis.url).toBe(
        `rediss://app:${ENCODED}@cache:6380`,
      );
    });

    it('leave the URLs as written when empty, and connect nothing with CACHE_BACKEND=memory', () => {
      const config = validateEnv({
        DATABASE_URL: 'postgres://u:p@db:5432/x',
        DATABASE_PASSWORD: '',
        REDIS_URL: 'redis://:pw@cache:6379',
        REDIS_PASSWORD: '',
      });
      expect(config.database).toMatchObject({ url: 'postgres://u:p@db:5432/x' });
      expect(config.redis.url).toBe('redis://:pw@cache:6379');
      expect(
        validateEnv({ REDIS_URL: 'redis://cache:6379', REDIS_PASSWORD: PASSWORD, CACHE_BACKEND: 'memory' }).redis.url,
      ).toBeUndefined();
    });

    it('are refused beside a password in their URL, naming both variables and echoing neither password', () => {
      const found = problems({
        DATABASE_URL: 'postgres://u:s3cr3t@db:5432/x',
        DATABASE_PASSWORD: 'hunter2',
        REDIS_URL: 'redis://:s3cr3t@cache:6379',
        REDIS_PASSWORD: 'hunter2',
      });
      expect(found).toEqual([
        'DATABASE_PASSWORD: cannot be set together with a password in DATABASE_URL: keep one of the two',
        'REDIS_PASSWORD: cannot be set together with a password in REDIS_URL: keep one of the two',
      ]);
      expect(found.join('\n')).not.toMatch(/s3cr3t|hunter2/);
    });

    it('leave a malformed URL to its own message', () => {
      expect(problems({ DATABASE_URL: '::nope', DATABASE_PASSWORD: 'hunter2' })).toEqual([
        expect.stringMatching(/^DATABASE_URL: must be a URL/),
      ]);
    });
  });

  describe('REDIS_SENTINELS', () => {
    it('names the sentinels (IPv6 in brackets), the master and both passwords', () => {
      const config = validateEnv({
        REDIS_SENTINELS: 'sentinel-1:26379, 10.0.0.2:26380,[::1]:26381',
        REDIS_SENTINEL_MASTER: 'bp-master',
        REDIS_PASSWORD: 'data-pw',
        REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
      });
      expect(config.redis.url).toBeUndefined();
      expect(config.redis.sentinel).toEqual({
        nodes: [
          { host: 'sentinel-1', port: 26379 },
          { host: '10.0.0.2', port: 26380 },
          { host: '::1', port: 26381 },
        ],
        masterName: 'bp-master',
        password: 'data-pw',
        sentinelPassword: 'sentinel-pw',
      });
      // Enough for CACHE_BACKEND=redis; nothing with CACHE_BACKEND=memory.
      const sentinels = { REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_MASTER: 'm' };
      expect(validateEnv({ ...sentinels, CACHE_BACKEND: 'redis' }).redis.sentinel).toBeDefined();
      expect(validateEnv({ ...sentinels, CACHE_BACKEND: 'memory' }).redis.sentinel).toBeUndefined();
      expect(validateEnv({ REDIS_SENTINELS: '', REDIS_SENTINEL_MASTER: '' }).redis.sentinel).toBeUndefined();
    });

    it('refuses a malformed node, a missing master name, and REDIS_URL beside it', () => {
      expect(problems({ REDIS_SENTINELS: 'a:1,b', REDIS_SENTINEL_MASTER: 'm' })).toEqual([
        'REDIS_SENTINELS: "b" is not host:port (e.g. sentinel-1:26379)',
      ]);
      expect(problems({ REDIS_SENTINELS: 'a:70000', REDIS_SENTINEL_MASTER: 'm' })[0]).toMatch(/^REDIS_SENTINELS:/);
      expect(problems({ REDIS_SENTINELS: 'a:1' })).toEqual([
        'REDIS_SENTINEL_MASTER: is required with REDIS_SENTINELS (the name in `sentinel monitor <name> …`)',
      ]);
      expect(problems({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_MASTER: 'm', REDIS_URL: 'redis://r:6379' })).toEqual([
        'REDIS_SENTINELS: cannot be set together with REDIS_URL: the sentinels name the master',
      ]);
      expect(problems({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_MASTER: 'bad name' })[0]).toMatch(
        /^REDIS_SENTINEL_MASTER:/,
      );
    });
  });

  describe('REDIS_CLUSTER_NODES', () => {
    it('names the nodes and the password, and is enough for CACHE_BACKEND=redis', () => {
      const config = validateEnv({
        REDIS_CLUSTER_NODES: 'redis-1:6379,redis-2:6380, [::1]:6381',
        REDIS_PASSWORD: 'data-pw',
        CACHE_BACKEND: 'redis',
      });
      expect(config.redis.url).toBeUndefined();
      expect(config.redis.sentinel).toBeUndefined();
      expect(config.redis.cluster).toEqual({
        nodes: [
          { host: 'redis-1', port: 6379 },
          { host: 'redis-2', port: 6380 },
          { host: '::1', port: 6381 },
        ],
        password: 'data-pw',
      });
      expect(validateEnv({ REDIS_CLUSTER_NODES: 'a:1', CACHE_BACKEND: 'memory' }).redis.cluster).toBeUndefined();
      expect(validateEnv({ REDIS_CLUSTER_NODES: ' ' }).redis.cluster).toBeUndefined();
    });

    it('refuses a malformed node, more than 32, and REDIS_URL or REDIS_SENTINELS beside it', () => {
      expect(problems({ REDIS_CLUSTER_NODES: 'a:1,redis-2' })).toEqual([
        'REDIS_CLUSTER_NODES: "redis-2" is not host:port (e.g. redis-1:6379)',
      ]);
      const many = Array.from({ length: 33 }, (_, i) => `n${i}:6379`).join(',');
      expect(problems({ REDIS_CLUSTER_NODES: many })).toEqual(['REDIS_CLUSTER_NODES: lists more than 32 nodes']);
      const exclusive =
        'REDIS_CLUSTER_NODES: cannot be set together with REDIS_URL or REDIS_SENTINELS: choose one way to reach Redis';
      expect(problems({ REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://r:6379' })).toEqual([exclusive]);
      expect(problems({ REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 's:1', REDIS_SENTINEL_MASTER: 'm' })).toEqual([
        exclusive,
      ]);
    });
  });

  describe('auth variables', () => {
    const pemPair = () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return {
        JWT_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().replace(/\n/g, '\\n'),
        JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      };
    };

    it('has the documented defaults', () => {
      const { auth } = validateEnv({});
      expect(auth.jwt).toMatchObject({ algorithm: 'HS256', accessTtl: 900, refreshTtl: 7200, tokenCacheSize: 10_000 });
      expect(auth.admin).toBeUndefined();
      expect(auth.throttle).toEqual({
        authLimit: 10,
        authTtl: 60,
        userLimit: 600,
        userTtl: 60,
        syncMs: 250,
        login: { pairLimit: 5, pairTtl: 900, emailLimit: 50, emailTtl: 900, backoffBase: 1, backoffMax: 900 },
      });
    });

    it('reads the login failure limits, and refuses a backoff ceiling below its start', () => {
      const { auth } = validateEnv({ THROTTLE_LOGIN_PAIR_LIMIT: '3', THROTTLE_LOGIN_EMAIL_LIMIT: '20' });
      expect(auth.throttle.login).toMatchObject({ pairLimit: 3, emailLimit: 20 });
      expect(problems({ THROTTLE_LOGIN_BACKOFF_BASE: '60', THROTTLE_LOGIN_BACKOFF_MAX: '30' })).toEqual([
        'THROTTLE_LOGIN_BACKOFF_MAX: must be at least THROTTLE_LOGIN_BACKOFF_BASE',
      ]);
      expect(problems({ THROTTLE_LOGIN_PAIR_LIMIT: '0' })).toEqual([
        expect.stringMatching(/^THROTTLE_LOGIN_PAIR_LIMIT:/),
      ]);
    });

    it('refuses the default JWT secret in production, and short secrets anywhere, without echoing them', () => {
      expect(problems({ NODE_ENV: 'production' })).toEqual([
        expect.stringMatching(/^JWT_SECRET: must be set in production .*openssl rand -base64 48/),
      ]);
      const short = problems({ JWT_SECRET: 'hunter2-secret' });
      expect(short).toEqual(['JWT_SECRET: must be at least 32 characters']);
      expect(short.join()).not.toContain('hunter2');
      expect(() => validateEnv({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) })).not.toThrow();
    });

    it('takes the .env.example placeholder secret in development and refuses it in production, saying what to do', () => {
      expect(validateEnv({ JWT_SECRET: EXAMPLE_JWT_SECRET }).auth.jwt.secret).toBe(EXAMPLE_JWT_SECRET);
      expect(problems({ NODE_ENV: 'production', JWT_SECRET: EXAMPLE_JWT_SECRET })).toEqual([
        'JWT_SECRET: is the placeholder from .env.example, refused in production (it is public): ' +
          'set a random one, e.g. the output of `openssl rand -base64 48`',
      ]);
    });

    it('requires both PEM keys for ES256/RS256 and turns escaped newlines into real ones', () => {
      expect(
        problems({ JWT_ALGORITHM: 'ES256' })
          .map((p) => p.split(':')[0])
          .sort(),
      ).toEqual(['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEY']);
      expect(problems({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: 'nope', JWT_PUBLIC_KEY: 'nope' })).toHaveLength(2);
      const { auth } = validateEnv({ JWT_ALGORITHM: 'ES256', ...pemPair() });
      expect(auth.jwt.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(problems({ JWT_ALGORITHM: 'HS512' })).toEqual(['JWT_ALGORITHM: must be HS256, RS256 or ES256']);
    });

    it('refuses at boot, naming the variable and never the key, a PEM pair that could not sign or verify', () => {
      const pem = (key: KeyObject, type: 'pkcs8' | 'spki') => key.export({ type, format: 'pem' }).toString();
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      const rs256 = (privateKey: string, publicKey: string, algorithm = 'RS256') =>
        problems({ JWT_ALGORITHM: algorithm, JWT_PRIVATE_KEY: privateKey, JWT_PUBLIC_KEY: publicKey });
      const garbled = '-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END PRIVATE KEY-----';

      const pair = { JWT_PRIVATE_KEY: pem(rsa.privateKey, 'pkcs8'), JWT_PUBLIC_KEY: pem(rsa.publicKey, 'spki') };
      expect(validateEnv({ JWT_ALGORITHM: 'RS256', ...pair }).auth.jwt.algorithm).toBe('RS256');
      const unreadable = rs256(garbled, pem(rsa.publicKey, 'spki'));
      expect(unreadable).toEqual(['JWT_PRIVATE_KEY: is not a private key PEM Node can read']);
      expect(unreadable.join()).not.toContain('SECRETKEYMATERIAL');
      expect(rs256(pem(rsa.privateKey, 'pkcs8'), pem(otherRsa.publicKey, 'spki'))).toEqual([
        'JWT_PUBLIC_KEY: is not the public key of JWT_PRIVATE_KEY',
      ]);
      expect(rs256(pem(weakRsa.privateKey, 'pkcs8'), pem(weakRsa.publicKey, 'spki'))).toEqual([
        'JWT_PRIVATE_KEY: must be an RSA key of at least 2048 bits',
        'JWT_PUBLIC_KEY: must be an RSA key of at least 2048 bits',
      ]);
      expect(rs256(pem(rsa.privateKey, 'pkcs8'), pem(rsa.privateKey, 'pkcs8'))).toEqual([
        'JWT_PUBLIC_KEY: is not a public key PEM Node can read',
      ]);
      expect(rs256(pem(p384.privateKey, 'pkcs8'), pem(p384.publicKey, 'spki'), 'ES256')).toEqual([
        'JWT_PRIVATE_KEY: must be an EC key on the P-256 curve for JWT_ALGORITHM=ES256',
        'JWT_PUBLIC_KEY: must be an EC key on the P-256 curve for JWT_ALGORITHM=ES256',
      ]);
    });

    it('takes ADMIN_EMAIL and ADMIN_PASSWORD together only', () => {
      expect(problems({ ADMIN_EMAIL: 'root@example.com' })).toEqual([
        'ADMIN_PASSWORD: is required when the other ADMIN_* variable is set',
      ]);
      expect(problems({ ADMIN_EMAIL: 'nope', ADMIN_PASSWORD: 'long enough' })[0]).toMatch(/^ADMIN_EMAIL/);
      expect(validateEnv({ ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'long enough' }).auth.admin).toEqual({
        email: 'root@example.com',
        password: 'long enough',
      });
    });
  });

  describe('AI and conversation variables', () => {
    it('has the documented defaults: the simulated provider, boardroom scope, the design’s TTLs', () => {
      const { ai, conversations } = validateEnv({});
      expect(ai).toMatchObject({
        provider: 'simulated',
        model: 'simulated',
        models: ['simulated'],
        simulatedLatencyMs: 300,
        temperature: 0,
        timeoutMs: 60_000,
        maxRetries: 2,
        cache: { ttlMs: 1_800_000, graceMs: 3_600_000, scope: 'boardroom', models: [] },
        prices: {},
      });
      expect(conversations).toEqual({
        ttlMs: 3_600_000,
        maxContentChars: 16_000,
        maxMessages: 50,
        maxTokens: 8_000,
        warmOnLogin: 5,
      });
    });

    it('requires AI_BASE_URL and AI_MODEL for the openai provider, and lists the allowed models', () => {
      expect(problems({ AI_PROVIDER: 'openai' }).map((p) => p.split(':')[0])).toEqual(['AI_BASE_URL', 'AI_MODEL']);
      const { ai } = validateEnv({
        AI_PROVIDER: 'openai',
        AI_BASE_URL: 'http://localhost:11434/v1',
        AI_MODEL: 'llama3',
        AI_MODELS: 'llama3, qwen2.5:7b',
        AI_TEMPERATURE: '0.7',
      });
      expect(ai).toMatchObject({ model: 'llama3', models: ['llama3', 'qwen2.5:7b'], temperature: 0.7 });
      expect(problems({ AI_BASE_URL: 'ftp://x' })[0]).toMatch(/^AI_BASE_URL/);
      expect(problems({ AI_TEMPERATURE: '2.5' })[0]).toMatch(/^AI_TEMPERATURE/);
      expect(problems({ AI_MODELS: 'ok,bad model' })[0]).toMatch(/^AI_MODELS/);
    });

    it('reads a price table and names a bad entry without echoing the value', () => {
      const { ai } = validateEnv({ AI_PRICES: '{"m":{"prompt":1,"completion":2}}' });
      expect(ai.prices).toEqual({ m: { prompt: 1, completion: 2 } });
      const [problem] = problems({ AI_PRICES: '{"m":{"prompt":"secret-ish","completion":2}}' });
      expect(problem).toMatch(/^AI_PRICES: has a bad price for "m"/);
      expect(problem).not.toContain('secret-ish');
      expect(problems({ AI_PRICES_FILE: '/nonexistent/prices.json' })).toEqual([
        'AI_PRICES_FILE: cannot be read (ENOENT)',
      ]);
    });

    it('never echoes the API key', () => {
      const all = problems({ AI_API_KEY: 'sk-very-secret', AI_PROVIDER: 'openai' }).join('\n');
      expect(all).not.toContain('sk-very-secret');
    });
  });
});
