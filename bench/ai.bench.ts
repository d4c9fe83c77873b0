/**
 * Completion cache benchmark: the API answering a replayed prompt trace with
 * the simulated provider (300 ms an answer), 16 users at once, cache on and
 * cache off in one run, with the provider alone as the physical reference.
 * `npm run bench:ai`; writes bench/results/ai.md and prints it.
 *
 * The trace: every user opens conversations of 1–4 turns in one shared
 * boardroom; a turn asks one of a few hundred prompts drawn by Zipf, or
 * (10 %) repeats the user's previous prompt. A turn is a cache hit only when
 * its whole history has been asked before (the key covers every message), so
 * first turns of popular prompts hit and a repeat within a conversation
 * misses, as it must: the model would see a longer history.
 */
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AiLedger, SimulatedProvider } from '@app/ai';
import { createApp } from '../apps/api/src/bootstrap';
import { createTestDatabase } from '../test/support/postgres';
import { fixed, int, ratio, table } from './lib/markdown';
import { progress } from './lib/progress';
import { BenchRedisServer, redisVersion } from './lib/redis-server';
import { percentile } from './lib/stats';
import { createZipf, mulberry32 } from './zipf';

const RESULTS = join(process.cwd(), 'bench', 'results', 'ai.md');
const USERS = 16;
const TURNS_PER_USER = Number(process.env.BENCH_AI_TURNS ?? 40);
const DISTINCT_PROMPTS = 300;
const LATENCY_MS = 300;
const REPEAT_SHARE = 0.1;

/** One user's requests: conversations of 1–4 turns. */
type Trace = string[][][];

/** The same trace for every row: users × conversations × prompts. */
function buildTrace(): Trace {
  const random = mulberry32(7);
  const zipf = createZipf({ n: DISTINCT_PROMPTS, s: 1, seed: 11 });
  return Array.from({ length: USERS }, () => {
    const conversations: string[][] = [];
    let left = TURNS_PER_USER;
    let previous = '';
    while (left > 0) {
      const turns = Math.min(left, 1 + Math.floor(random() * 4));
      const prompts: string[] = [];
      for (let t = 0; t < turns; t++) {
        const prompt = previous && random() < REPEAT_SHARE ? previous : `Board question #${zipf()}: what should we do?`;
        prompts.push(prompt);
        previous = prompt;
      }
      conversations.push(prompts);
      left -= turns;
    }
    return conversations;
  });
}

interface Row {
  name: string;
  answers: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  providerCalls: number;
  hits: number;
  tokensSaved: number;
}

class Api {
  constructor(private readonly base: string) {}

  async send<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.base}/api/v1${path}`, {
      method,
      headers: {
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(token && { authorization: `Bearer ${token}` }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

async function setUp(api: Api): Promise<{ tokens: string[]; roomId: string }> {
  const tokens: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const credentials = { email: `bench${i}@example.com`, password: 'correct horse battery' };
    ids.push(
      (await api.send<{ id: string }>('POST', '/auth/register', undefined, { ...credentials, name: `User ${i}` })).id,
    );
    tokens.push((await api.send<{ accessToken: string }>('POST', '/auth/login', undefined, credentials)).accessToken);
  }
  const room = await api.send<{ id: string }>('POST', '/boardrooms', tokens[0], { name: 'Bench room' });
  for (const id of ids.slice(1)) await api.send('POST', `/boardrooms/${room.id}/members`, tokens[0], { userId: id });
  return { tokens, roomId: room.id };
}

async function replay(
  name: string,
  api: Api,
  ledger: AiLedger,
  users: { tokens: string[]; roomId: string },
  trace: Trace,
  cache: { noCache: boolean; noStore: boolean } | undefined,
): Promise<Row> {
  progress(`${name}: replaying ${USERS * TURNS_PER_USER} prompts, ${USERS} users at once`);
  const before = totals(ledger);
  const latencies: number[] = [];
  let hits = 0;
  const started = performance.now();
  await Promise.all(
    trace.map(async (conversations, user) => {
      const token = users.tokens[user];
      for (const prompts of conversations) {
        const { id } = await api.send<{ id: string }>('POST', `/boardrooms/${users.roomId}/conversations`, token, {
          systemPrompt: 'You advise the board. Be concise.',
        });
        for (const content of prompts) {
          const sent = performance.now();
          const posted = await api.send<{ cached: boolean }>('POST', `/conversations/${id}/messages`, token, {
            content,
            ...(cache && { cache }),
          });
          latencies.push(performance.now() - sent);
          if (posted.cached) hits++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const after = totals(ledger);
  const sorted = Float64Array.from(latencies).sort();
  return {
    name,
    answers: latencies.length,
    seconds,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    providerCalls: after.calls - before.calls,
    hits,
    tokensSaved: after.saved - before.saved,
  };
}

function totals(ledger: AiLedger): { calls: number; saved: number } {
  let calls = 0;
  let saved = 0;
  for (const line of ledger.lines()) {
    calls += line.providerCalls;
    saved += line.tokensSaved.prompt + line.tokensSaved.completion;
  }
  return { calls, saved };
}

/** The physical reference: the provider alone, 16 calls in flight, no app, no database. */
async function providerAlone(trace: Trace): Promise<Row> {
  progress('provider alone: the same number of calls, 16 in flight');
  const provider = new SimulatedProvider(LATENCY_MS);
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    trace.map(async (conversations) => {
      for (const prompt of conversations.flat()) {
        const sent = performance.now();
        await provider.complete({
          model: 'simulated',
          messages: [{ role: 'user', content: prompt }],
          params: { temperature: 0, maxTokens: 1024 },
        });
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const sorted = Float64Array.from(latencies).sort();
  return {
    name: 'provider alone (no app; reference)',
    answers: latencies.length,
    seconds: (performance.now() - started) / 1000,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    providerCalls: latencies.length,
    hits: 0,
    tokensSaved: 0,
  };
}

function render(rows: Row[], meta: Record<string, string>): string {
  const reference = rows.find((row) => row.name.startsWith('cache off'))!;
  const perSecond = (row: Row) => row.answers / row.seconds;
  return [
    '# AI completion cache',
    '',
    `\`npm run bench:ai\`, one run, ${new Date().toISOString().slice(0, 10)}. ${USERS} users at once replay one trace of ` +
      `${USERS * TURNS_PER_USER} prompts (Zipf s=1 over ${DISTINCT_PROMPTS} prompts, ${REPEAT_SHARE * 100} % repeats ` +
      `of the user's previous prompt, conversations of 1–4 turns in one boardroom) through ` +
      '`POST /api/v1/conversations/:id/messages` on the real app (Postgres, Redis), simulated provider at ' +
      `${LATENCY_MS} ms. Cache off is the same app with \`cache: {noCache: true, noStore: true}\` in every request; ` +
      'it runs first, so the first cache-on row starts cold; the second replays the same trace, whose every ' +
      'history has now been asked (all hits: the app’s own cost of an answer).',
    '',
    table(
      ['row', 'answers/s', '× cache off', 'p50 ms', 'p99 ms', 'provider calls', 'hit ratio', 'tokens saved'],
      rows.map((row) => [
        row.name,
        fixed(perSecond(row), 1),
        ratio(perSecond(row), perSecond(reference)),
        fixed(row.p50Ms, 1),
        fixed(row.p99Ms, 1),
        int(row.providerCalls),
        row.name.startsWith('provider') ? 'n/a' : `${fixed((100 * row.hits) / row.answers, 1)} %`,
        int(row.tokensSaved),
      ]),
    ),
    '',
    'A turn hits only when its whole history was asked before: first turns of popular prompts hit, later turns ' +
      'mostly miss, and a repeat within a conversation misses (the model would see a longer history). The ' +
      'provider-alone row is the ceiling of the misses: 16 calls of 300 ms in flight.',
    '',
    ...Object.entries(meta).map(([key, value]) => `- ${key}: ${value}`),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  Logger.overrideLogger(['error', 'warn']);
  const server = await BenchRedisServer.start();
  const db = await createTestDatabase();
  let app: NestFastifyApplication | undefined;
  try {
    app = await createApp({
      ignoreEnvFile: true,
      env: {
        DATABASE_URL: db.url,
        REDIS_URL: server.url,
        CACHE_PREFIX: 'bai',
        LOG_LEVEL: 'warn',
        HTTP_LOG: 'false',
        THROTTLE_LIMIT: '0',
        THROTTLE_AUTH_LIMIT: '100000',
        AI_SIMULATED_LATENCY_MS: String(LATENCY_MS),
        CONVERSATION_WARM_ON_LOGIN: '0',
      },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address() as { port: number };
    const api = new Api(`http://127.0.0.1:${address.port}`);
    const ledger = app.get(AiLedger);
    const users = await setUp(api);
    const trace = buildTrace();
    const rows = [
      await replay('cache off', api, ledger, users, trace, { noCache: true, noStore: true }),
      await replay('cache on (cold start)', api, ledger, users, trace, undefined),
      await replay('cache on (warm: the same trace again)', api, ledger, users, trace, undefined),
      await providerAlone(trace),
    ];
    const report = render(rows, {
      node: process.version,
      redis: await redisVersion(server.url),
      machine: 'the shared 2-core VM; app, Postgres, Redis and the load generator on it',
    });
    await mkdir(dirname(RESULTS), { recursive: true });
    await writeFile(RESULTS, report);
    process.stdout.write(report);
    progress(`written to ${RESULTS}`);
  } finally {
    await app?.close();
    await db.drop();
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
