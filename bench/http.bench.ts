/**
 * HTTP benchmark: the compiled app (Postgres, its own redis-server, request
 * logs on and written to a file) against a minimal stock Nest 12 Fastify app,
 * wrk in its own process, every row at 32 and 64 connections, rows
 * interleaved over several rounds (medians reported: the VM is noisy).
 * Run with `npm run bench:http`; writes bench/results/http.md and prints it.
 *
 * Environment: BENCH_ROUNDS (5), BENCH_SECONDS (4 per measurement),
 * TEST_POSTGRES_URL (the admin URL the tests use).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../test/support/postgres';
import { HttpServerProcess } from './lib/http-server-process';
import { renderHttpReport, type Measured, type Row } from './lib/http-report';
import { progress } from './lib/progress';
import { BenchRedisServer } from './lib/redis-server';
import { assertWrk, wrk, type WrkResult } from './lib/wrk';

const ROOT = process.cwd();
const RESULTS = join(ROOT, 'bench', 'results');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = [32, 64];

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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function measure(rows: Row[]): Promise<Measured[]> {
  const runs = new Map<string, WrkResult[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const connections of CONNECTIONS) {
      for (const row of rows) {
        const options = { connections, headers: row.headers };
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
    const app = await HttpServerProcess.start({
      label: 'our app',
      script: join(ROOT, 'dist/apps/api/src/main.js'),
      env: {
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        REDIS_URL: redis.url,
        JWT_SECRET: randomBytes(32).toString('hex'),
        LOG_LEVEL: 'info',
        HTTP_LOG: 'true',
        // The general limit runs (and costs what it costs) but never refuses one user's load.
        THROTTLE_LIMIT: '1000000000',
      },
      logFile,
      readyPath: '/health/ready',
    });
    servers.push(app);
    const { auth, id } = await signIn(app.url);
    const rows: Row[] = [
      { label: 'bare node:http, constant JSON (physical reference)', url: `${bare.url}/`, role: 'bare' },
      { label: 'stock Nest 12 (Fastify), constant route', url: `${stock.url}/ping`, role: 'stock' },
      { label: 'ours: GET /api/v1/ping (no auth)', url: `${app.url}/api/v1/ping`, role: 'ping' },
      {
        label: 'ours: GET /api/v1/ping/auth (authenticated constant)',
        url: `${app.url}/api/v1/ping/auth`,
        headers: auth,
        role: 'auth',
      },
      { label: 'ours: GET /api/v1/auth/me', url: `${app.url}/api/v1/auth/me`, headers: auth, role: 'me' },
      {
        label: 'ours: GET /api/v1/users/:id (query cache, L1 hit)',
        url: `${app.url}/api/v1/users/${id}`,
        headers: auth,
        role: 'user',
      },
    ];
    const measured = await measure(rows);
    const report = renderHttpReport({ measured, rounds: ROUNDS, seconds: SECONDS, node: process.version });
    await writeFile(join(RESULTS, 'http.md'), report);
    process.stdout.write(report);
  } finally {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await redis?.stop();
    await db?.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
