/**
 * Chaos under load: the compiled app (its own redis-server, Postgres behind a
 * TCP proxy this harness runs, never the shared servers) serves cached reads
 * — and, in a second run, 10 % writes — from 16 concurrent clients while
 * Redis is killed for 10 s and restarted, paused with SIGSTOP, and Postgres
 * is paused (the proxy drops every byte). Per phase: requests, non-2xx by
 * status, p50/p99/max, and how long the app took to be back on Redis.
 * Targets (docs/architecture.md): zero 5xx on cacheable reads with Redis down
 * or paused, p99 under 50 ms while the breaker is open, back on Redis within
 * 5 s; with Postgres paused, cached reads keep serving and writes fail fast
 * with 503 instead of hanging.
 *
 *   npm run bench:chaos     (about 2 minutes; writes bench/results/chaos.md)
 *
 * With CHAOS_REDIS=cluster (`npm run bench:chaos-cluster`, writes
 * bench/results/chaos-cluster.md), the app runs on a Redis Cluster of three
 * masters with a replica each, and the Redis faults hit one master: killed
 * (its replica takes over) and brought back, then another paused and
 * resumed.
 *
 * Environment: CHAOS_CONNECTIONS (16), CHAOS_SCALE (1: phase lengths ×), CHAOS_REDIS (server | cluster).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres';
import { TcpProxy } from '../../test/support/tcp-proxy';
import { TestRedisCluster } from '../../test/support/redis-cluster';
import { TestRedisServer } from '../../test/support/redis-server';
import { HttpServerProcess } from '../lib/http-server-process';
import { fixed, int, table } from '../lib/markdown';
import { progress } from '../lib/progress';

const ROOT = process.cwd();
const RESULTS = join(ROOT, 'bench', 'results');
const CONNECTIONS = Number(process.env.CHAOS_CONNECTIONS ?? 16);
const SCALE = Number(process.env.CHAOS_SCALE ?? 1);
const USERS = 8;
const CLUSTER = process.env.CHAOS_REDIS === 'cluster';
/** The client's own deadline: a request still unanswered after it counts as a hang. */
const CLIENT_TIMEOUT_MS = 10_000;

interface Sample {
  /** When it was sent, ms since the run started. */
  at: number;
  ms: number;
  /** HTTP status, or 0 for no answer (timeout, reset). */
  status: number;
  kind: 'read' | 'write';
}

interface Phase {
  name: string;
  seconds: number;
  /** What starts the phase (after the previous one's time is up). */
  enter?: () => Promise<void> | void;
  /**
   * Redis is expected back during this phase: measure from its start until
   * the app uses it again. `'after-leaving'` (a fault the app notices by
   * itself, as a cluster master lost): first wait for the app to stop using
   * Redis, then measure until it uses it again, from the phase's start.
   */
  measuresRecovery?: boolean | 'after-leaving';
}

interface PhaseResult {
  name: string;
  from: number;
  to: number;
  backOnRedisS?: number;
  /** `'after-leaving'` phases: the app never stopped using Redis (within 5 s of the fault). */
  stayedOnRedis?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

interface Fixture {
  users: Array<{ id: string; token: string; boardroomId: string }>;
  adminToken: string;
}

async function json(url: string, init: RequestInit & { token?: string; body?: string } = {}): Promise<any> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(url, { ...init, headers });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

async function seed(base: string, admin: { email: string; password: string }): Promise<Fixture> {
  const users: Fixture['users'] = [];
  for (let i = 0; i < USERS; i++) {
    const email = `chaos-${i}-${randomBytes(3).toString('hex')}@example.com`;
    const password = 'correct horse battery';
    const { id } = await json(`${base}/api/v1/auth/register`, {
      method: 'POST',
      body: JSON.stringify({ email, password, name: `User ${i}` }),
    });
    const { accessToken } = await json(`${base}/api/v1/auth/login`, {
      method: 'POST',
      body: JSON.stringify({ email, password }),
    });
    const room = await json(`${base}/api/v1/boardrooms`, {
      method: 'POST',
      token: accessToken,
      body: JSON.stringify({ name: `Room ${i}` }),
    });
    users.push({ id, token: accessToken, boardroomId: room.id });
  }
  const { accessToken: adminToken } = await json(`${base}/api/v1/auth/login`, {
    method: 'POST',
    body: JSON.stringify(admin),
  });
  return { users, adminToken };
}

/** One request of the mix: a cached read (users, boardrooms, /auth/me), or a write when `writeShare` says so. */
async function one(base: string, fixture: Fixture, writeShare: number, started: number, samples: Sample[]) {
  const user = fixture.users[Math.floor(Math.random() * fixture.users.length)];
  const write = Math.random() < writeShare;
  const other = fixture.users[Math.floor(Math.random() * fixture.users.length)];
  const pick = Math.random();
  const [method, path, body] = write
    ? pick < 0.5
      ? ['PATCH', `/api/v1/users/${user.id}`, { name: `User ${randomBytes(2).toString('hex')}` }]
      : ['PATCH', `/api/v1/boardrooms/${user.boardroomId}`, { description: randomBytes(4).toString('hex') }]
    : pick < 0.4
      ? ['GET', `/api/v1/users/${other.id}`, undefined]
      : pick < 0.8
        ? ['GET', `/api/v1/boardrooms/${user.boardroomId}`, undefined]
        : ['GET', '/api/v1/auth/me', undefined];
  const at = performance.now() - started;
  let status = 0;
  try {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${user.token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    status = response.status;
  } catch {
    status = 0;
  }
  samples.push({ at, ms: performance.now() - started - at, status, kind: write ? 'write' : 'read' });
}

/** Polls the admin API until the app's use of Redis is `wanted`; seconds since `since`, or undefined past `limitMs`. */
async function untilUsingRedis(
  base: string,
  adminToken: string,
  since: number,
  wanted: boolean,
  limitMs = 30_000,
): Promise<number | undefined> {
  while (performance.now() - since < limitMs) {
    try {
      const health = await json(`${base}/api/v1/cache/health`, {
        token: adminToken,
        signal: AbortSignal.timeout(1_000),
      });
      if (health.usingRedis === wanted) return (performance.now() - since) / 1000;
    } catch {
      /* the admin API itself may be slow while a dependency is down */
    }
    await sleep(wanted ? 100 : 20);
  }
  return undefined;
}

/** How long until the app writes to Redis again (see `Phase.measuresRecovery`). */
async function backOnRedis(
  base: string,
  adminToken: string,
  since: number,
  mode: true | 'after-leaving',
): Promise<Pick<PhaseResult, 'backOnRedisS' | 'stayedOnRedis'>> {
  if (mode === 'after-leaving' && (await untilUsingRedis(base, adminToken, since, false, 5_000)) === undefined) {
    return { stayedOnRedis: true };
  }
  return { backOnRedisS: await untilUsingRedis(base, adminToken, since, true) };
}

/** The Redis faults of a run: the one server's, or one master's of a cluster. */
function redisPhases(redis: TestRedisServer | TestRedisCluster): Phase[] {
  const s = (n: number) => n * SCALE;
  if (redis instanceof TestRedisServer) {
    return [
      { name: 'Redis killed (SIGKILL)', seconds: s(10), enter: () => redis.kill() },
      { name: 'Redis restarted', seconds: s(6), enter: () => redis.restart(), measuresRecovery: true },
      { name: 'Redis paused (SIGSTOP)', seconds: s(5), enter: () => redis.pause() },
      { name: 'Redis resumed (SIGCONT)', seconds: s(6), enter: () => redis.resume(), measuresRecovery: true },
    ];
  }
  // Each fault hits a master whose replica can take over; "back on Redis" counts from the fault.
  let killed = 0;
  let paused = 0;
  return [
    {
      name: 'Redis killed (one master of three, SIGKILL; its replica takes over)',
      seconds: s(10),
      enter: async () => {
        killed = await redis.masterWithReplica();
        await redis.servers.get(killed)!.kill();
      },
      measuresRecovery: 'after-leaving',
    },
    {
      name: 'Redis restarted (the old master rejoins as a replica)',
      seconds: s(6),
      enter: () => redis.bringBack(killed),
      measuresRecovery: true,
    },
    {
      name: 'Redis paused (another master, SIGSTOP; its replica takes over)',
      seconds: s(10),
      enter: async () => {
        paused = await redis.masterWithReplica();
        redis.pause(paused);
      },
      measuresRecovery: 'after-leaving',
    },
    {
      name: 'Redis resumed (SIGCONT: it rejoins as a replica)',
      seconds: s(6),
      enter: () => redis.bringBack(paused),
      measuresRecovery: true,
    },
  ];
}

async function run(
  label: string,
  writeShare: number,
  base: string,
  fixture: Fixture,
  redis: TestRedisServer | TestRedisCluster,
  postgres: TcpProxy,
): Promise<{ label: string; samples: Sample[]; phases: PhaseResult[] }> {
  const s = (n: number) => n * SCALE;
  const phases: Phase[] = [
    { name: 'baseline', seconds: s(5) },
    ...redisPhases(redis),
    { name: 'Postgres paused (proxy drops every byte)', seconds: s(5), enter: () => postgres.blackhole() },
    { name: 'Postgres resumed', seconds: s(5), enter: () => postgres.resume() },
  ];
  const samples: Sample[] = [];
  const started = performance.now();
  let running = true;
  const workers = Array.from({ length: CONNECTIONS }, async () => {
    while (running) await one(base, fixture, writeShare, started, samples);
  });
  const results: PhaseResult[] = [];
  for (const phase of phases) {
    const from = performance.now() - started;
    await phase.enter?.();
    progress(`${label}: ${phase.name}`);
    const recovery = phase.measuresRecovery
      ? backOnRedis(base, fixture.adminToken, performance.now(), phase.measuresRecovery)
      : undefined;
    await sleep(phase.seconds * 1000);
    results.push({ name: phase.name, from, to: performance.now() - started, ...(await recovery) });
  }
  running = false;
  await Promise.all(workers);
  return { label, samples, phases: results };
}

function report(runs: Array<Awaited<ReturnType<typeof run>>>): string {
  const lines: string[] = [
    CLUSTER ? '# Chaos under load: Redis Cluster' : '# Chaos under load',
    '',
    `The compiled app on ${CLUSTER ? 'a Redis Cluster of its own (three masters, a replica each, `cluster-node-timeout` 1 s)' : 'its own redis-server'}, Postgres behind a TCP proxy of the harness, ${CONNECTIONS} concurrent`,
    `clients (Node fetch, keep-alive) over ${USERS} users: cached reads (\`GET /users/{id}\` shared, \`GET /boardrooms/{id}\``,
    'and `GET /auth/me` per user, all HTTP-cached), and in the second run 10 % writes (`PATCH` of a user or a',
    'boardroom). Client deadline 10 s (a request unanswered then counts as status 0). The app runs with',
    '`DB_QUERY_TIMEOUT_MS=1000` and `DB_CONNECT_TIMEOUT_MS=1000`, the other settings at their defaults.',
    `Run with \`npm run ${CLUSTER ? 'bench:chaos-cluster' : 'bench:chaos'}\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}.`,
    '',
  ];
  const targets: string[][] = [];
  for (const { label, samples, phases } of runs) {
    lines.push(`## ${label}`, '');
    const rows = phases.map((phase) => {
      const inPhase = samples.filter((x) => x.at >= phase.from && x.at < phase.to);
      const reads = inPhase.filter((x) => x.kind === 'read');
      const writes = inPhase.filter((x) => x.kind === 'write');
      const statuses = (list: Sample[]) => {
        const counts = new Map<number, number>();
        for (const x of list)
          if (x.status < 200 || x.status >= 300) counts.set(x.status, (counts.get(x.status) ?? 0) + 1);
        return [...counts].map(([status, n]) => `${status === 0 ? 'no answer' : status}: ${int(n)}`).join(', ') || '—';
      };
      const sorted = reads.map((x) => x.ms).sort((a, b) => a - b);
      const writeSorted = writes.map((x) => x.ms).sort((a, b) => a - b);
      const seconds = (phase.to - phase.from) / 1000;
      const fiveXx = reads.filter((x) => x.status >= 500 || x.status === 0).length;
      if (/Redis (killed|paused)/.test(phase.name)) {
        targets.push([
          label,
          `${phase.name}: 5xx or no answer on cacheable reads`,
          int(fiveXx),
          fiveXx === 0 ? 'yes' : 'no',
        ]);
        // The breaker opens after the first failed calls: its p99 is of the phase after its first second.
        const open = reads
          .filter((x) => x.at >= phase.from + 1_000)
          .map((x) => x.ms)
          .sort((a, b) => a - b);
        const p99 = percentile(open, 0.99);
        targets.push([
          label,
          `${phase.name}: read p99 after the first second (ms)`,
          fixed(p99, 1),
          p99 < 50 ? 'yes' : 'no',
        ]);
      }
      if (phase.stayedOnRedis) {
        targets.push([label, `${phase.name}: back on Redis after (s)`, 'never left it', 'yes']);
      } else if (phase.backOnRedisS !== undefined || /restarted|resumed \(SIGCONT/.test(phase.name)) {
        const back = phase.backOnRedisS;
        targets.push([
          label,
          `${phase.name}: back on Redis after (s)`,
          back === undefined ? 'not within the phase' : fixed(back, 2),
          back !== undefined && back <= 5 ? 'yes' : 'no',
        ]);
      }
      if (/Postgres paused/.test(phase.name)) {
        const okReads = reads.filter((x) => x.status === 200).length;
        targets.push([
          label,
          `${phase.name}: cached reads answered 200`,
          `${int(okReads)} of ${int(reads.length)}`,
          okReads === reads.length ? 'yes' : 'no',
        ]);
        if (writes.length > 0) {
          const slowest = writeSorted[writeSorted.length - 1];
          const all503 = writes.every((x) => x.status === 503);
          targets.push([
            label,
            `${phase.name}: writes answered 503, slowest (ms)`,
            `${all503 ? 'all 503' : statuses(writes)}, ${fixed(slowest, 0)}`,
            all503 && slowest < CLIENT_TIMEOUT_MS ? 'yes' : 'no',
          ]);
        }
      }
      return [
        phase.name,
        fixed(seconds, 1),
        int(reads.length),
        int(reads.length / seconds),
        statuses(reads),
        fixed(percentile(sorted, 0.5), 1),
        fixed(percentile(sorted, 0.99), 1),
        fixed(sorted[sorted.length - 1] ?? NaN, 0),
        writes.length
          ? `${int(writes.length)}; ${statuses(writes)}; p99 ${fixed(percentile(writeSorted, 0.99), 0)} ms`
          : '—',
        phase.stayedOnRedis ? 'never left' : phase.backOnRedisS === undefined ? '' : fixed(phase.backOnRedisS, 2),
      ];
    });
    lines.push(
      table(
        [
          'phase',
          's',
          'reads',
          'reads/s',
          'reads not 2xx',
          'p50 (ms)',
          'p99 (ms)',
          'max (ms)',
          'writes; not 2xx; p99',
          'back on Redis (s)',
        ],
        rows,
      ),
      '',
    );
  }
  lines.push('## Targets', '', table(['run', 'check', 'measured', 'met'], targets), '');
  lines.push(
    '## Reading it',
    '',
    '- A request belongs to the phase in which it was sent: one sent just before a fault and answered after it',
    '  (a 503 in the phase before "Postgres paused") is counted in the earlier phase.',
    '- With writes, a read whose cached response a write invalidated just before Postgres stopped answering',
    '  must reach Postgres, and answers 503: the cache never serves a value that a committed write replaced',
    '  (grace applies to expired entries, not to invalidated ones). The first ones wait out the query deadline;',
    '  once three calls in a row have missed it, the gate in front of Postgres shuts and they answer at once',
    '  (one probe a second), so the clients keep reading what the cache holds.',
    '- After "Postgres resumed", requests fail until a probe finds the server again (a second or two: a probe',
    '  may land on a connection the outage broke).',
    ...(CLUSTER
      ? [
          '- Cluster: "back on Redis" counts from the fault, so it includes the cluster\'s own failover (failure',
          "  detection after `cluster-node-timeout`, then the replicas' election) before the app's probe finds the",
          '  promoted replica in the slot map; a paused master is declared failed later than a killed one, whose',
          '  sockets close at once. The 5 s target was set for one Redis restarted, with no election to wait for.',
          '- The Redis phases are longer than on one server (the failovers take seconds): entries with short TTLs',
          '  (boardroom memberships, 5 s) have expired by the Postgres phase, and reads that need them wait for the',
          '  query deadline until the gate in front of Postgres shuts.',
        ]
      : []),
    '',
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  await mkdir(RESULTS, { recursive: true });
  const logFile = join(RESULTS, 'chaos-app.log');
  await writeFile(logFile, '');
  let db: TestDatabase | undefined;
  let redis: TestRedisServer | TestRedisCluster | undefined;
  let proxy: TcpProxy | undefined;
  let app: HttpServerProcess | undefined;
  try {
    [db, redis] = await Promise.all([
      createTestDatabase(),
      CLUSTER ? TestRedisCluster.start({ masters: 3 }) : TestRedisServer.start(),
    ]);
    const target = new URL(db.url);
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    target.host = `127.0.0.1:${proxy.port}`;
    const admin = { email: 'chaos-admin@example.com', password: 'chaos-admin-password' };
    app = await HttpServerProcess.start({
      label: 'app',
      script: join(ROOT, 'dist/apps/api/src/main.js'),
      env: {
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        DATABASE_URL: target.toString(),
        ...(redis instanceof TestRedisServer ? { REDIS_URL: redis.url } : { REDIS_CLUSTER_NODES: redis.nodes }),
        JWT_SECRET: randomBytes(32).toString('hex'),
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
        DB_QUERY_TIMEOUT_MS: '1000',
        DB_CONNECT_TIMEOUT_MS: '1000',
        THROTTLE_LIMIT: '0',
        THROTTLE_AUTH_LIMIT: '1000',
        LOG_LEVEL: 'warn',
        HTTP_LOG: 'false',
      },
      logFile,
      readyPath: '/health/ready',
    });
    const fixture = await seed(app.url, admin);
    const runs = [];
    runs.push(await run('Cached reads only', 0, app.url, fixture, redis, proxy));
    await sleep(2_000);
    runs.push(await run('Cached reads with 10 % writes', 0.1, app.url, fixture, redis, proxy));
    const text = report(runs);
    await writeFile(join(RESULTS, CLUSTER ? 'chaos-cluster.md' : 'chaos.md'), text);
    process.stdout.write(text);
  } finally {
    await app?.stop();
    await proxy?.stop();
    await redis?.stop();
    await db?.drop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
