/**
 * HTTP benchmark: the compiled app (Postgres, its own redis-server, request
 * logs on and written to a file) against a minimal stock Nest 12 Fastify app
 * and a bare node:http server, wrk in its own process, every row at 32 and
 * 64 connections, rows interleaved over several rounds (medians reported:
 * the VM is noisy). The response-cache rows rotate over 100 hot users: L1
 * hit, L2 hit (a second instance whose L1 holds one entry), 304
 * revalidation, the response cache bypassed (query cache L1 hit), the stock
 * `CacheInterceptor` + `@keyv/redis` on the same app and service, and the
 * uncached Postgres read. Run with `npm run bench:http`; writes
 * bench/results/http.md and prints it.
 *
 * Environment: BENCH_ROUNDS (5), BENCH_SECONDS (3 per measurement),
 * TEST_POSTGRES_URL (the admin URL the tests use).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../test/support/postgres';
import { HttpServerProcess } from './lib/http-server-process';
import { renderHttpReport, type Measured, type Row } from './lib/http-report';
import { progress } from './lib/progress';
import { median } from './lib/stats';
import { BenchRedisServer } from './lib/redis-server';
import { fixed } from './lib/markdown';
import { assertWrk, rotatingScript, wrk, type WrkResult } from './lib/wrk';

const ROOT = process.cwd();
const RESULTS = join(ROOT, 'bench', 'results');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = [32, 64];
const HOT_IDS = 100;

/** wrk's Lua scripts hold the bench user's token: a temporary directory, not bench/results. */
let scripts: string | undefined;
async function writeScript(name: string, text: string): Promise<string> {
  scripts ??= await mkdtemp(join(tmpdir(), 'bench-http-'));
  const file = join(scripts, `${name}.lua`);
  await writeFile(file, text);
  return file;
}

/** The share of the response cache's hits an instance served from Redis (its Prometheus counters). */
async function httpL2Share(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const hits = (layer: string) =>
    Number(new RegExp(`^cache_hits_total\\{namespace="http",layer="${layer}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  const l1 = hits('l1');
  const l2 = hits('l2');
  return l1 + l2 === 0 ? 0 : l2 / (l1 + l2);
}

async function json<T>(url: string, init: RequestInit): Promise<T> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Registers and logs in one user; returns the bearer header and the user's id. */
async function signIn(base: string): Promise<{ auth: Record<string, string>; id: string }> {
  const credentials = { email: `bench-${randomBytes(4).toString('hex')}@example.com`, password: 'bench-password-1' };
  const user = await json<{ id: string }>(`${base}/api/v1/auth/register`, {
    method: 'POST',
    body: JSON.stringify({ ...credentials, name: 'Bench' }),
  });
  const { accessToken } = await json<{ accessToken: string }>(`${base}/api/v1/auth/login`, {
    method: 'POST',
    body: JSON.stringify(credentials),
  });
  return { auth: { authorization: `Bearer ${accessToken}` }, id: user.id };
}

async function measure(rows: Row[]): Promise<Measured[]> {
  const runs = new Map<string, WrkResult[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const connections of CONNECTIONS) {
      for (const row of rows) {
        const options = { connections, headers: row.headers, script: row.script };
        progress(`round ${round}/${ROUNDS}, ${connections} connections: ${row.label}`);
        await wrk(row.url, { ...options, seconds: round === 1 ? 3 : 1 }); // warm-up
        const result = await wrk(row.url, { ...options, seconds: SECONDS });
        const key = `${row.label}@${connections}`;
        runs.set(key, [...(runs.get(key) ?? []), result]);
      }
    }
  }
  return CONNECTIONS.flatMap((connections) =>
    rows.map((row) => {
      const results = runs.get(`${row.label}@${connections}`)!;
      return {
        row,
        connections,
        rps: median(results.map((r) => r.rps)),
        p50Ms: median(results.map((r) => r.p50Ms)),
        p99Ms: median(results.map((r) => r.p99Ms)),
        perRound: results.map((r) => ({ rps: r.rps, p99Ms: r.p99Ms })),
        errors: results.reduce((sum, r) => sum + r.errors, 0),
        requests: results.reduce((sum, r) => sum + r.requests, 0),
      };
    }),
  );
}

async function main(): Promise<void> {
  await assertWrk();
  await mkdir(RESULTS, { recursive: true });
  const logFile = join(RESULTS, 'http-app.log');
  await writeFile(logFile, '');
  const servers: HttpServerProcess[] = [];
  let redis: BenchRedisServer | undefined;
  let db: TestDatabase | undefined;
  const interrupt = (signal: NodeJS.Signals) => {
    progress(`${signal}: stopping`);
    void Promise.allSettled([...servers.map((s) => s.stop()), redis?.stop(), db?.drop()]).finally(() =>
      process.exit(130),
    );
  };
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  try {
    redis = await BenchRedisServer.start();
    db = await createTestDatabase();
    progress(`redis-server on ${redis.port}, database ${db.name}`);
    const stock = await HttpServerProcess.start({
      label: 'stock Nest',
      script: join(ROOT, 'dist/bench/bench/peers/stock-nest-app.js'),
      args: (port) => [String(port)],
      logFile,
      readyPath: '/ping',
    });
    servers.push(stock);
    const bare = await HttpServerProcess.start({
      label: 'bare node:http',
      script: join(ROOT, 'dist/bench/bench/peers/bare-http-app.js'),
      args: (port) => [String(port)],
      logFile,
      readyPath: '/',
    });
    servers.push(bare);
    const appEnv = {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      JWT_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'info',
      HTTP_LOG: 'true',
      // The general limit runs (and costs what it costs) but never refuses one user's load.
      THROTTLE_LIMIT: '1000000000',
      // Only the set-up registers (HOT_IDS users from one address); no measured row calls the auth routes.
      THROTTLE_AUTH_LIMIT: '1000000',
    };
    // Our app with the peer routes (stock CacheInterceptor, query cache alone, uncached read) on the same process.
    const app = await HttpServerProcess.start({
      label: 'our app',
      script: join(ROOT, 'dist/bench/bench/peers/app-with-peer-routes.js'),
      env: appEnv,
      logFile,
      readyPath: '/health/ready',
    });
    servers.push(app);
    // The same app with an L1 of one entry: the response cache's hits come from Redis.
    const l2App = await HttpServerProcess.start({
      label: 'our app, L1 of 1 entry',
      script: join(ROOT, 'dist/bench/bench/peers/app-with-peer-routes.js'),
      env: { ...appEnv, CACHE_L1_MAX_ENTRIES: '1' },
      logFile,
      readyPath: '/health/ready',
    });
    servers.push(l2App);
    const { auth, id } = await signIn(app.url);
    const hot = [id];
    while (hot.length < HOT_IDS) hot.push((await signIn(app.url)).id);
    const paths = (url: (id: string) => string) => hot.map(url);
    const script = (name: string, list: string[], perPath?: Array<Record<string, string>>) =>
      writeScript(name, rotatingScript(list, auth, perPath));
    const userPaths = paths((u) => `/api/v1/users/${u}`);
    // The ETag of every hot user's response, for the revalidation row.
    const etags = await Promise.all(
      userPaths.map(async (path) => {
        const res = await fetch(`${app.url}${path}`, { headers: auth });
        if (!res.ok || !res.headers.get('etag')) throw new Error(`GET ${path}: ${res.status}, no ETag`);
        return { 'if-none-match': res.headers.get('etag')! };
      }),
    );
    const rows: Row[] = [
      { label: 'bare node:http, constant JSON (physical reference)', url: `${bare.url}/`, role: 'bare' },
      { label: 'stock Nest 12 (Fastify), constant route', url: `${stock.url}/ping`, role: 'stock' },
      {
        label: 'stock Nest 12, the same route behind one no-op interceptor (the interceptor machinery)',
        url: `${stock.url}/ping/intercepted`,
        role: 'stockIntercepted',
      },
      { label: 'ours: GET /api/v1/ping (no auth; the ceiling)', url: `${app.url}/api/v1/ping`, role: 'ping' },
      {
        label: 'ours: GET /api/v1/ping/auth (authenticated constant)',
        url: `${app.url}/api/v1/ping/auth`,
        headers: auth,
        role: 'auth',
      },
      {
        label: 'ours: GET /api/v1/auth/me (HTTP cache, user scope)',
        url: `${app.url}/api/v1/auth/me`,
        headers: auth,
        role: 'me',
      },
      {
        label: `ours: GET /api/v1/users/:id, HTTP cache L1 hit (${HOT_IDS} ids)`,
        url: app.url,
        script: await script('http-l1', userPaths),
        role: 'httpL1',
      },
      {
        label: `ours: GET /api/v1/users/:id, HTTP cache L2 hit (L1 of 1 entry, ${HOT_IDS} ids)`,
        url: l2App.url,
        script: await script('http-l2', userPaths),
        role: 'httpL2',
      },
      {
        label: `ours: GET /api/v1/users/:id, If-None-Match → 304 (${HOT_IDS} ids)`,
        url: app.url,
        script: await script('revalidate', userPaths, etags),
        role: 'revalidate',
      },
      {
        label: `ours: GET /api/v1/users/:id, response cache bypassed: query cache L1 hit (${HOT_IDS} ids)`,
        url: app.url,
        script: await script(
          'bypass',
          userPaths,
          userPaths.map(() => ({ 'cache-control': 'no-store' })),
        ),
        role: 'user',
      },
      {
        label: `ours: the same service call without the response cache: query cache L1 hit (${HOT_IDS} ids)`,
        url: app.url,
        script: await script(
          'query',
          paths((u) => `/api/v1/bench/users/${u}/query`),
        ),
        role: 'query',
      },
      {
        label: `stock @nestjs/cache-manager CacheInterceptor + @keyv/redis, same app and service (${HOT_IDS} ids)`,
        url: app.url,
        script: await script(
          'stock-interceptor',
          paths((u) => `/api/v1/bench/users/${u}/stock`),
        ),
        role: 'stockInterceptor',
      },
      {
        label: `ours: the same user read from Postgres on every request, no cache (${HOT_IDS} ids)`,
        url: app.url,
        script: await script(
          'uncached',
          paths((u) => `/api/v1/bench/users/${u}/db`),
        ),
        role: 'uncached',
      },
    ];
    const measured = await measure(rows);
    const l2Share = await httpL2Share(l2App.url);
    const report = renderHttpReport({
      measured,
      rounds: ROUNDS,
      seconds: SECONDS,
      node: process.version,
      notes: [
        `The app runs with three benchmark-only routes beside its own (bench/peers/app-with-peer-routes.ts): the stock \`CacheInterceptor\` over the app's \`CACHE_MANAGER\` around the same service call, the same service call without any response cache (its query cache L1 hit), and the same read from Postgres without any cache. Rows marked "${HOT_IDS} ids" rotate over ${HOT_IDS} users.`,
        `The L2 row runs on a second instance of the same app whose L1 holds one entry: ${fixed(l2Share * 100, 1)} % of its response-cache hits came from Redis.`,
      ],
    });
    await writeFile(join(RESULTS, 'http.md'), report);
    process.stdout.write(report);
  } finally {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await redis?.stop();
    await db?.drop();
    if (scripts) await rm(scripts, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
