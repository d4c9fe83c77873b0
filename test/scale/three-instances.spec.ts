import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { AppProcess } from '../support/app-process';
import { uniquePrefix } from '../support/cache-instance';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { TestRedisServer } from '../support/redis-server';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Three compiled app instances on one Redis and one Postgres, started at
 * once on an empty database, with several users reading and writing through
 * all of them: every read made after a write's response, on any instance,
 * sees the write (the HTTP-cached routes included); rate limits and
 * revocations are shared; a conversation appended from all three stays
 * contiguous.
 */
describe('Three app instances on one Redis and one Postgres', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bp-three-'));
  let db: TestDatabase;
  let redis: TestRedisServer;
  let apps: AppProcess[];
  const admin = { email: 'three-admin@example.com', password: 'three-admin-password' };

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), TestRedisServer.start()]);
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      CACHE_BACKEND: 'redis',
      CACHE_PREFIX: uniquePrefix(),
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      THROTTLE_AUTH_LIMIT: '200',
      THROTTLE_LOGIN_PAIR_LIMIT: '5',
      THROTTLE_LIMIT: '100',
      AI_SIMULATED_LATENCY_MS: '30',
      LOG_LEVEL: 'warn',
    };
    // All three at once, as a deployment rolls out replicas: each runs the migrations at boot.
    apps = await Promise.all([0, 1, 2].map(() => AppProcess.start(env, cwd)));
  });
  afterAll(async () => {
    await Promise.all((apps ?? []).map((app) => app.stop()));
    await redis?.stop();
    await db?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  let users = 0;
  /** A fresh account, registered on one instance and logged in on another. */
  async function account(): Promise<{ id: string; token: string; email: string; password: string }> {
    const email = `three-${users++}-${randomBytes(3).toString('hex')}@example.com`;
    const password = 'correct horse battery';
    const registered = await apps[users % 3].send('POST', '/api/v1/auth/register', {
      body: { email, password, name: 'v0' },
    });
    expect(registered.status).toBe(201);
    const login = await apps[(users + 1) % 3].send('POST', '/api/v1/auth/login', { body: { email, password } });
    expect(login.status).toBe(200);
    return { id: registered.body.id, token: login.body.accessToken, email, password };
  }

  it('ran each migration exactly once although the three booted together', async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string; n: string }>(
        'SELECT name, count(*) AS n FROM migrations GROUP BY name',
      );
      expect(rows.length).toBeGreaterThan(3);
      expect(rows.filter((row) => row.n !== '1')).toEqual([]);
    } finally {
      await client.end();
    }
    for (const app of apps) expect((await app.get('/health/ready')).status).toBe(200);
  });

  it('shows every write to the next read on every instance: users, /auth/me, boardrooms, members', async () => {
    const owner = await account();
    const member = await account();
    // Warm every instance's caches (L1 and the HTTP cache) with the old values first.
    for (const app of apps) {
      expect((await app.send('GET', `/api/v1/users/${owner.id}`, { token: member.token })).body.name).toBe('v0');
      expect((await app.send('GET', '/api/v1/auth/me', { token: owner.token })).body.name).toBe('v0');
    }
    for (let round = 1; round <= 6; round++) {
      const writer = apps[round % 3];
      const name = `v${round}`;
      expect(
        (await writer.send('PATCH', `/api/v1/users/${owner.id}`, { token: owner.token, body: { name } })).status,
      ).toBe(200);
      for (const [i, app] of apps.entries()) {
        const seen = await app.send('GET', `/api/v1/users/${owner.id}`, { token: member.token });
        const me = await app.send('GET', '/api/v1/auth/me', { token: owner.token });
        expect({ round, instance: i, user: seen.body.name, me: me.body.name }).toEqual({
          round,
          instance: i,
          user: name,
          me: name,
        });
      }
    }

    const room = (await apps[0].send('POST', '/api/v1/boardrooms', { token: owner.token, body: { name: 'Three' } }))
      .body;
    for (const app of apps)
      expect((await app.send('GET', `/api/v1/boardrooms/${room.id}`, { token: member.token })).status).toBe(404);
    expect(
      (
        await apps[1].send('POST', `/api/v1/boardrooms/${room.id}/members`, {
          token: owner.token,
          body: { userId: member.id },
        })
      ).status,
    ).toBe(201);
    for (const app of apps)
      expect((await app.send('GET', `/api/v1/boardrooms/${room.id}`, { token: member.token })).status).toBe(200);
    for (let round = 1; round <= 3; round++) {
      const description = `d${round}`;
      expect(
        (
          await apps[round % 3].send('PATCH', `/api/v1/boardrooms/${room.id}`, {
            token: owner.token,
            body: { description },
          })
        ).status,
      ).toBe(200);
      for (const app of apps) {
        const seen = await app.send('GET', `/api/v1/boardrooms/${room.id}`, { token: member.token });
        const listed = await app.send('GET', '/api/v1/boardrooms', { token: member.token });
        expect([seen.body.description, listed.body.items[0]?.description]).toEqual([description, description]);
      }
    }
    expect(
      (await apps[2].send('DELETE', `/api/v1/boardrooms/${room.id}/members/${member.id}`, { token: owner.token }))
        .status,
    ).toBe(204);
    for (const app of apps)
      expect((await app.send('GET', `/api/v1/boardrooms/${room.id}`, { token: member.token })).status).toBe(404);
  });

  it('keeps a conversation contiguous when all three append to it at once, and each shows the same state', async () => {
    const owner = await account();
    const room = (await apps[0].send('POST', '/api/v1/boardrooms', { token: owner.token, body: { name: 'Talk' } }))
      .body;
    const conversation = (
      await apps[1].send('POST', `/api/v1/boardrooms/${room.id}/conversations`, {
        token: owner.token,
        body: { title: 'Plans' },
      })
    ).body;
    const posts = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        apps[i % 3].send('POST', `/api/v1/conversations/${conversation.id}/messages`, {
          token: owner.token,
          body: { content: `question ${i}` },
          timeoutMs: 15_000,
        }),
      ),
    );
    expect(posts.map((p) => p.status)).toEqual(Array(9).fill(201));
    for (const post of posts) expect(post.body.assistantMessage.seq).toBe(post.body.userMessage.seq + 1);
    for (const app of apps) {
      const messages = (
        await app.send('GET', `/api/v1/conversations/${conversation.id}/messages?limit=200`, { token: owner.token })
      ).body as Array<{ seq: number; role: string; status: string }>;
      expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
      expect(messages.map((m) => m.role)).toEqual(Array.from({ length: 18 }, (_, i) => (i % 2 ? 'assistant' : 'user')));
      expect(messages.every((m) => m.status === 'complete')).toBe(true);
      const state = await app.send('GET', `/api/v1/conversations/${conversation.id}`, { token: owner.token });
      expect(state.body.lastSeq).toBe(18);
    }
  });

  it('revokes a token on every instance within a second of the logout', async () => {
    const user = await account();
    for (const app of apps) expect((await app.send('GET', '/api/v1/auth/me', { token: user.token })).status).toBe(200);
    expect((await apps[0].send('POST', '/api/v1/auth/logout', { token: user.token })).status).toBe(204);
    const loggedOut = performance.now();
    for (const app of apps.slice(1)) {
      let status = 200;
      while (status !== 401 && performance.now() - loggedOut < 1_000) {
        status = (await app.send('GET', '/api/v1/auth/me', { token: user.token })).status;
        if (status !== 401) await sleep(20);
      }
      expect(status).toBe(401);
    }
  });

  it('shares rate limits: failed logins count on all three, and so do the requests of one user', async () => {
    const user = await account();
    // THROTTLE_LOGIN_PAIR_LIMIT=5 failed logins per (email, IP): two per instance make six.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (
          await apps[i % 3].send('POST', '/api/v1/auth/login', {
            body: { email: user.email, password: 'wrong-password' },
          })
        ).status,
      );
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses[5]).toBe(429);

    // THROTTLE_LIMIT=100 requests per user per minute, counted in memory and shared through Redis
    // by the instances that counted hits, every THROTTLE_SYNC_MS (250 ms): an instance learns the
    // others' hits at the first sync after a hit of its own. 50 on A and 50 on B use the window up;
    // one more hit on each instance, and once they have synced, all three refuse.
    const ping = async (app: AppProcess) => (await app.send('GET', '/api/v1/ping/auth', { token: user.token })).status;
    const burst = async (app: AppProcess, n: number) => {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) statuses.push(await ping(app));
      return statuses;
    };
    expect(await burst(apps[0], 50)).toEqual(Array(50).fill(200));
    await sleep(600);
    expect(await burst(apps[1], 50)).toEqual(Array(50).fill(200));
    await sleep(600);
    expect(await ping(apps[1])).toBe(429); // B synced after its own hits: it knows A's
    for (const app of [apps[0], apps[2]]) await ping(app); // A and C decide on their last view (allowed: the bound)
    await sleep(600);
    expect([await ping(apps[0]), await ping(apps[1]), await ping(apps[2])]).toEqual([429, 429, 429]);
  });
});
