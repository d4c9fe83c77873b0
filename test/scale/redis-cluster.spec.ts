import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { CACHE_MANAGER, type Cache } from '@nestjs/cache-manager';
import { AppProcess } from '../support/app-process';
import { FailoverChecks, waitForRedisHealth, type TestAccount } from '../support/failover-checks';
import { createCacheInstance, uniquePrefix, type CacheInstance } from '../support/cache-instance';
import { freePort, waitFor } from '../support/free-port';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { TestRedisCluster } from '../support/redis-cluster';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const password = 'cluster-data-password';

/**
 * A Redis Cluster of the test's own (three masters, one replica each, a
 * password), used by the cache core in-process and by two compiled app
 * instances on one Postgres.
 */
describe('Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let db: TestDatabase;

  beforeAll(async () => {
    [cluster, db] = await Promise.all([TestRedisCluster.start({ password }), createTestDatabase()]);
  });
  afterAll(async () => {
    await cluster?.stop();
    await db?.drop();
  });

  const clusterOptions = () => ({
    cluster: {
      nodes: [...cluster.servers.keys()].map((port) => ({ host: '127.0.0.1', port })),
      password,
    },
  });

  describe('the cache core, two instances', () => {
    let a: CacheInstance;
    let b: CacheInstance;
    let prefix: string;

    beforeAll(async () => {
      prefix = uniquePrefix();
      [a, b] = await Promise.all([
        createCacheInstance(undefined, { prefix, backend: 'redis' }, clusterOptions()),
        createCacheInstance(undefined, { prefix, backend: 'redis' }, clusterOptions()),
      ]);
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    it('spreads entries over every master, each key with its slot group’s hash tag', async () => {
      const ns = a.cache.namespace('spread');
      await ns.mset(Array.from({ length: 48 }, (_, i) => ({ key: `k${i}`, value: { i } })));
      const masters = new Set<number>();
      for (let i = 0; i < 48; i++) {
        const key = a.cache.redisKey('spread', `k${i}`);
        expect(key).toMatch(/\{[0-9a-z]+\}$/);
        masters.add(await cluster.masterOf(key));
      }
      expect(masters.size).toBe(3);
      // B has none of them in L1: each comes from L2, through one read script in its own slot.
      const read = await b.cache.namespace('spread').mget(Array.from({ length: 48 }, (_, i) => `k${i}`));
      expect(read).toEqual(Array.from({ length: 48 }, (_, i) => ({ i })));
    });

    it('invalidates a tag in every slot group: no instance reads an entry of it again, from L1 or L2', async () => {
      const keys = Array.from({ length: 24 }, (_, i) => `t${i}`);
      for (const key of keys) await a.cache.namespace('tags').set(key, `v-${key}`, { tags: ['shared-tag'] });
      // Both instances hold them in L1.
      for (const key of keys) expect(await b.cache.namespace('tags').get(key)).toBe(`v-${key}`);
      await a.cache.invalidateTags(['shared-tag']);
      for (const instance of [a, b]) {
        for (const key of keys) expect(await instance.cache.namespace('tags').get(key)).toBeUndefined();
      }
      // A write after the invalidation is readable again.
      await b.cache.namespace('tags').set('t0', 'after', { tags: ['shared-tag'] });
      expect(await a.cache.namespace('tags').get('t0')).toBe('after');
    });

    it('refuses a loader’s late write after an invalidation of its tag, whatever the slot group', async () => {
      const ns = a.cache.namespace('late');
      let release!: () => void;
      const loading = ns.getOrSet(
        'slow',
        async () => {
          await new Promise<void>((r) => (release = r));
          return 'loaded before the invalidation';
        },
        { tags: ['late-tag'] },
      );
      await sleep(50);
      await b.cache.invalidateTags(['late-tag']);
      release();
      expect(await loading).toBe('loaded before the invalidation');
      // The value was computed before the invalidation: L2 refused it, so B loads afresh.
      expect(
        await b.cache.namespace('late').getOrSet('slow', () => Promise.resolve('fresh'), { tags: ['late-tag'] }),
      ).toBe('fresh');
      // And A (whose L1 did not keep the refused value either) reads B's from L2.
      expect(await a.cache.namespace('late').get('slow')).toBe('fresh');
    });

    it('deletes keys of several slot groups at once, and clears a namespace', async () => {
      const ns = a.cache.namespace('del');
      await ns.mset(Array.from({ length: 16 }, (_, i) => ({ key: `d${i}`, value: i })));
      expect(await b.cache.namespace('del').get('d3')).toBe(3);
      await ns.delete(Array.from({ length: 8 }, (_, i) => `d${i}`));
      expect(await b.cache.namespace('del').mget(['d0', 'd3', 'd7', 'd8', 'd15'])).toEqual([
        undefined,
        undefined,
        undefined,
        8,
        15,
      ]);
      await b.cache.clearNamespace('del');
      expect(await a.cache.namespace('del').get('d8')).toBeUndefined();
    });

    it("keeps Nest's CACHE_MANAGER (cache-manager over @keyv/redis) working on the cluster client", async () => {
      const manager = a.moduleRef.get<Cache>(CACHE_MANAGER);
      await manager.set('cm-key', { on: 'cluster' }, 60_000);
      expect(await b.moduleRef.get<Cache>(CACHE_MANAGER).get('cm-key')).toEqual({ on: 'cluster' });
    });

    it('keeps hearing the bus when a resharding moves its channel’s slot to another master', async () => {
      const ns = (instance: CacheInstance) => instance.cache.namespace('moved');
      await ns(a).set('k', 'before');
      expect(await ns(b).get('k')).toBe('before'); // now in B's L1
      const channel = `${prefix}:bus`;
      const slot = await cluster.slotOf(channel);
      const from = await cluster.masterOfSlot(slot);
      await cluster.moveSlot(
        slot,
        (await cluster.masterPorts()).find((port) => port !== from)!,
      );
      // The old master unsubscribed both instances from the channel: a write reaches neither over the
      // bus now. Each counts Redis as down until it listens on the new master, then drops its L1 (and A
      // replays its write as an invalidation: a value set while Redis was down is in A's L1 only).
      await ns(a).set('k', 'after the move');
      for (const instance of [a, b]) {
        await waitFor(() => instance.cache.status().breaker === 'closed', 10_000, 'the breaker to close');
      }
      expect(await ns(b).get('k')).not.toBe('before');
      // And the bus works again: B's L1 copy is dropped before A's write returns.
      await ns(a).set('k', 'subscribed again');
      expect(await ns(b).get('k')).toBe('subscribed again');
      await ns(a).set('k', 'heard on the bus');
      expect(await ns(b).get('k')).toBe('heard on the bus');
    });

    it('runs a loader once across instances (the distributed lock’s keys share a slot)', async () => {
      let calls = 0;
      const loader = async () => {
        calls++;
        await sleep(100);
        return 'once';
      };
      const results = await Promise.all(
        [a, b, a, b].map((i) => i.cache.namespace('lock').getOrSet('hot', loader, { lockAcrossInstances: true })),
      );
      expect(results).toEqual(['once', 'once', 'once', 'once']);
      expect(calls).toBe(1);
    });
  });

  it('warns when a REDIS_URL names one node of the cluster (calls on other nodes’ keys would fail)', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const port = (await cluster.masterPorts())[0];
    const instance = await createCacheInstance(`redis://:${password}@127.0.0.1:${port}`, { prefix: uniquePrefix() });
    try {
      const warnings = warn.mock.calls.map((call) => String(call[0]));
      expect(
        warnings.filter((w) => /is a Redis Cluster node: list the nodes in REDIS_CLUSTER_NODES/.test(w)),
      ).toHaveLength(1);
      expect(warnings.join('\n')).not.toContain(password);
    } finally {
      warn.mockRestore();
      await instance.close();
    }
  });

  describe('the app, two instances', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bp-cluster-app-'));
    const admin = { email: 'cluster-admin@example.com', password: 'cluster-admin-password' };
    let apps: AppProcess[];
    const prefix = uniquePrefix();

    beforeAll(async () => {
      const env = {
        DATABASE_URL: db.url,
        REDIS_CLUSTER_NODES: cluster.nodes,
        REDIS_PASSWORD: password,
        CACHE_BACKEND: 'redis',
        CACHE_PREFIX: prefix,
        JWT_SECRET: randomBytes(32).toString('hex'),
        THROTTLE_AUTH_LIMIT: '200',
        // The loops below write and read as fast as the instances answer (537 requests of one
        // user in a 3.3 s resharding, near the default 600): the general limit is not their subject.
        THROTTLE_LIMIT: '1000000',
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
        LOG_LEVEL: 'warn',
      };
      apps = [];
      for (let i = 0; i < 2; i++) apps.push(await AppProcess.start(env, cwd));
      for (const app of apps) await waitForRedisHealth(app, 30_000);
    });
    afterAll(async () => {
      await Promise.all((apps ?? []).map((app) => app.stop()));
      rmSync(cwd, { recursive: true, force: true });
    });

    async function metric(app: AppProcess, pattern: RegExp): Promise<number> {
      const text = String((await app.get('/metrics')).body);
      return text
        .split('\n')
        .filter((line) => pattern.test(line))
        .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
    }

    async function waitForBreakerClosed(app: AppProcess, timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while ((await metric(app, /^cache_breaker_state\{state="closed"\}/)) !== 1) {
        if (Date.now() > deadline) throw new Error(`the cache breaker never closed\n${app.output.slice(-3000)}`);
        await sleep(100);
      }
    }

    const checks = new FailoverChecks(() => apps, 'cluster');
    const account = () => checks.account();
    // Twice on each instance: the second read is a cache hit.
    const writeThenRead = (user: TestAccount, name: string, writer: number) =>
      checks.writeThenRead(user, name, writer, 2);
    const readsDuring = (user: TestAccount, until: Promise<unknown>) => checks.readsDuring(user, until);
    const refusedEverywhere = (token: string) => checks.refusedEverywhere(token);

    async function adminToken(): Promise<string> {
      const login = await apps[0].send('POST', '/api/v1/auth/login', { body: admin });
      expect(login.status).toBe(200);
      return login.body.accessToken;
    }

    /** Every key the admin key browser lists for `match`, page after page. */
    async function browse(token: string, match: string): Promise<string[]> {
      const keys: string[] = [];
      let cursor = '0';
      for (let page = 0; page < 1_000; page++) {
        const listed = await apps[1].send(
          'GET',
          `/api/v1/cache/keys?match=${encodeURIComponent(match)}&cursor=${cursor}&count=100`,
          { token },
        );
        expect(listed.status).toBe(200);
        keys.push(...listed.body.keys.map((k: { key: string }) => k.key));
        cursor = listed.body.cursor;
        if (cursor === '0') return keys;
      }
      throw new Error('the key browser never finished');
    }

    it('caches responses and queries, sees every write on the next read and refuses a revoked token everywhere', async () => {
      const user = await account();
      await writeThenRead(user, 'first', 0);
      await writeThenRead(user, 'second', 1);
      // The HTTP cache answers the repeated read; the responses and the query results are in L2.
      const again = await apps[0].send('GET', `/api/v1/users/${user.id}`, { token: user.token });
      expect({ status: again.status, cache: again.headers.get('x-cache') }).toEqual({ status: 200, cache: 'HIT' });
      const namespaces = new Set<string>();
      for (const port of await cluster.masterPorts()) {
        const found = (await cluster.command(port, ['KEYS', `${prefix}:c:*`])) as string[];
        for (const key of found) namespaces.add(key.slice(`${prefix}:c:`.length).split(':')[0]);
      }
      expect([...namespaces]).toEqual(expect.arrayContaining(['http', 'query']));
      const revoked = await account();
      expect((await apps[0].send('POST', '/api/v1/auth/logout', { token: revoked.token })).status).toBe(204);
      await refusedEverywhere(revoked.token);
    });

    it('browses keys on every master, and shows, finds and deletes one by the name it lists', async () => {
      const token = await adminToken();
      const user = await account();
      await writeThenRead(user, 'browsed', 0);
      const keys = await browse(token, user.id);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) expect(key).not.toMatch(/[{}]/);
      const shown = await apps[0].send('GET', `/api/v1/cache/keys/${encodeURIComponent(keys[0])}`, { token });
      expect(shown.status).toBe(200);
      expect(shown.body.l2).toBeDefined();
      const deleted = await apps[0].send('DELETE', `/api/v1/cache/keys/${encodeURIComponent(keys[0])}`, { token });
      expect(deleted.status).toBe(204);
      expect((await apps[1].send('GET', `/api/v1/cache/keys/${encodeURIComponent(keys[0])}`, { token })).status).toBe(
        404,
      );
      // Every entry key on every master, page after page (the cursor goes from one master to the next).
      const everywhere = new Set<string>();
      for (const port of await cluster.masterPorts()) {
        const found = (await cluster.command(port, ['KEYS', `${prefix}:c:*`])) as string[];
        for (const key of found) everywhere.add(key.slice(`${prefix}:c:`.length).replace(/\{[^{}]*\}$/, ''));
      }
      expect(new Set(await browse(token, ''))).toEqual(everywhere);
      // The stats page reads INFO from every master.
      const stats = await apps[0].send('GET', '/api/v1/cache/stats', { token });
      expect(stats.status).toBe(200);
    });

    it('boots and serves while no cluster node answers, saying so without the password', async () => {
      const late = await AppProcess.start(
        {
          DATABASE_URL: db.url,
          REDIS_CLUSTER_NODES: `127.0.0.1:${await freePort()},127.0.0.1:${await freePort()}`,
          REDIS_PASSWORD: password,
          CACHE_PREFIX: uniquePrefix(),
          JWT_SECRET: randomBytes(32).toString('hex'),
          LOG_LEVEL: 'info',
        },
        cwd,
      );
      try {
        expect((await late.get('/health/ready')).status).toBe(200);
        const health = await late.get('/health/redis');
        expect(health.status).toBe(503);
        expect(JSON.stringify(health.body)).toMatch(/no slot map: no configured node answered .*ECONNREFUSED/);
        expect(JSON.stringify(health.body)).not.toContain(password);
        expect((await late.get('/api/v1/ping')).status).toBe(200);
        expect(late.output).toMatch(
          /Redis cluster via 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+ .*serving without it, retrying/,
        );
        expect(late.output).not.toContain(password);
      } finally {
        await late.stop();
      }
    });

    it('keeps serving through a resharding: every write is seen by the next reads, during and after it', async () => {
      const user = await account();
      await writeThenRead(user, 'before the resharding', 0);
      const [from, to] = await cluster.masterPorts();
      // 2,000 slots (and their keys) move while the instances write and read: node-redis follows
      // MOVED and ASK; a multi-key call meeting a slot mid-move (TRYAGAIN) would fail over to Postgres.
      let done = false;
      const moving = cluster.reshard(from, to, 2_000).finally(() => (done = true));
      let rounds = 0;
      while (!done) await writeThenRead(user, `during the resharding ${rounds}`, rounds++ % 2);
      await moving;
      expect(rounds).toBeGreaterThan(3);
      for (const app of apps) await waitForBreakerClosed(app);
      await writeThenRead(user, 'after the resharding', 1);
      await writeThenRead(user, 'after the resharding, other instance', 0);
      const again = await apps[1].send('GET', `/api/v1/users/${user.id}`, { token: user.token });
      expect(again.headers.get('x-cache')).toBe('HIT');
    });

    it('contains a killed master (reads keep answering), and uses the promoted replica once it took over', async () => {
      const user = await account();
      await writeThenRead(user, 'before the kill', 0);
      const revokedBefore = await account();
      expect((await apps[0].send('POST', '/api/v1/auth/logout', { token: revokedBefore.token })).status).toBe(204);
      const victim = await cluster.masterWithReplica();
      const opened = await Promise.all(apps.map((app) => metric(app, /^cache_breaker_transitions_total\{to="open"\}/)));

      const statuses = await readsDuring(user, cluster.killMaster(victim));
      expect(statuses.length).toBeGreaterThan(5);
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      // Each instance noticed (the whole L2 was bypassed meanwhile), then found the new master.
      for (const app of apps) {
        await waitForRedisHealth(app, 30_000);
        expect(app.output).toMatch(/Redis cluster node lost/);
      }
      expect(await cluster.masterPorts()).not.toContain(victim);
      for (const app of apps) await waitForBreakerClosed(app);
      // The outage is counted: each instance's breaker opened (once) and closed again.
      for (const [i, app] of apps.entries()) {
        expect(await metric(app, /^cache_breaker_transitions_total\{to="open"\}/)).toBeGreaterThan(opened[i]);
      }

      await writeThenRead(user, 'after the promotion', 1);
      await writeThenRead(user, 'after the promotion, other instance', 0);
      await refusedEverywhere(revokedBefore.token);
      const revokedAfter = await account();
      expect((await apps[1].send('POST', '/api/v1/auth/logout', { token: revokedAfter.token })).status).toBe(204);
      await refusedEverywhere(revokedAfter.token);
      // The L2 is used again, on all three masters.
      const token = await adminToken();
      await writeThenRead(await account(), 'a new user', 0);
      expect((await browse(token, '')).length).toBeGreaterThan(0);
      await cluster.bringBack(victim);
      // A rejoin can need a repair of the cluster's slot map (see TestRedisCluster.waitUntilHealthy).
    }, 120_000);

    it('gets past a paused master (no socket error: calls miss their deadline) once its replica took over', async () => {
      const user = await account();
      await writeThenRead(user, 'before the pause', 0);
      const victim = await cluster.masterWithReplica();

      const paused = cluster.pauseMaster(victim);
      // Before the takeover: the write's invalidation cannot reach the paused master's markers (nor,
      // maybe, the bus), and the reads after it must still see it (Postgres carries it meanwhile).
      await writeThenRead(user, 'while the master is paused', 0);
      const statuses = await readsDuring(user, paused);
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      // The write's markers on the paused master missed their deadline: those failures opened the
      // breaker, and the invalidation was queued for replay (Postgres carried it meanwhile).
      expect(apps[0].output).toMatch(/Redis failed \d+ calls in a row: unavailable until it answers a PING/);
      expect(apps[0].output).toMatch(/invalidation deferred until Redis answers: RedisTimeoutError/);
      // Still paused: the instances read the slot map again and use the promoted replica.
      for (const app of apps) {
        await waitForRedisHealth(app, 30_000);
        await waitForBreakerClosed(app);
      }
      await writeThenRead(user, 'while the old master is paused', 1);
      await writeThenRead(user, 'while the old master is paused, other instance', 0);

      await cluster.bringBack(victim);
      await writeThenRead(user, 'after it came back', 1);
      // A rejoin can need a repair of the cluster's slot map (see TestRedisCluster.waitUntilHealthy).
    }, 120_000);
  });
});
