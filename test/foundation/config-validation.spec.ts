import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppProcess, runToExit } from '../support/app-process';
import { freePort } from '../support/free-port';
import { TestRedisServer } from '../support/redis-server';

describe('boot with invalid configuration', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-config-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('exits non-zero naming every bad variable, without a stack trace', async () => {
    const { code, output } = await runToExit({ PORT: 'abc', REDIS_URL: 'http://x', CACHE_BACKEND: 'foo' }, cwd);
    expect(code).not.toBe(0);
    expect(output).toContain('Invalid configuration');
    for (const variable of ['PORT', 'REDIS_URL', 'CACHE_BACKEND'])
      expect(output).toMatch(new RegExp(`- ${variable}: `));
    expect(output).not.toMatch(/\n\s+at /);
  });

  it('refuses to start with CACHE_BACKEND=redis when Redis is unreachable', async () => {
    const deadPort = await freePort();
    const { code, output } = await runToExit(
      {
        CACHE_BACKEND: 'redis',
        REDIS_URL: `redis://:topsecret@127.0.0.1:${deadPort}`,
        REDIS_CONNECT_TIMEOUT_MS: '500',
      },
      cwd,
    );
    expect(code).not.toBe(0);
    expect(output).toMatch(/CACHE_BACKEND=redis requires it/);
    expect(output).not.toContain('topsecret');
  });

  it('warns in production when the Redis URL has no password, and still serves', async () => {
    const redis = await TestRedisServer.start();
    let app: AppProcess | undefined;
    try {
      app = await AppProcess.start(
        { NODE_ENV: 'production', REDIS_URL: redis.url, DATA_DIR: cwd, JWT_SECRET: 'x'.repeat(48) },
        cwd,
      );
      expect(app.output).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+ has no password in its URL/);
      expect((await app.get('/health/ready')).status).toBe(200);
    } finally {
      await app?.stop();
      await redis.stop();
    }
  });
});

describe('boot with .env.example copied to .env, as the Docker steps start', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-env-example-'));
  copyFileSync(resolve(__dirname, '../../.env.example'), join(cwd, '.env'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('refuses its JWT_SECRET placeholder in production, and only that, saying how to make a secret', async () => {
    const { code, output } = await runToExit({ NODE_ENV: 'production' }, cwd);
    expect(code).not.toBe(0);
    expect(output).toContain(
      'Invalid configuration:\n  - JWT_SECRET: is the placeholder from .env.example, refused in production ' +
        '(it is public): set a random one, e.g. the output of `openssl rand -base64 48`\n',
    );
    expect(output.match(/^ {2}- /gm)).toHaveLength(1);
    expect(output).not.toMatch(/\n\s+at /);
  });

  it('serves with it in development (embedded database in the copied DATA_DIR)', async () => {
    const app = await AppProcess.start({}, cwd);
    try {
      expect((await app.get('/health/ready')).status).toBe(200);
    } finally {
      await app.stop();
    }
  });
});
