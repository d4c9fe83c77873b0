/**
 * Profiles the L2 hit at concurrency, the number issue 11 targets: a writer
 * instance stores KEYS entries, then a reader instance (same Redis, empty
 * memory tier) reads each once with IN_FLIGHT calls outstanding, against the
 * raw node-redis GET + JSON.parse reference in the same run. With PROFILE=ours
 * (or PROFILE=raw) the reader phase of each round is CPU-profiled
 * (`bench/results/profiles/*.cpuprofile`, open in Chrome DevTools).
 *
 * WHO=all adds the two-tier floor (the raw client keeping each value in a Map
 * LRU; PROFILE=two-tier profiles it).
 *
 *   npm run bench:profile-l2 -- (env: KEYS=20000 IN_FLIGHT=64 ROUNDS=5 WHO=both|all|ours|raw|floor PROFILE=ours)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { resolve } from 'node:path';
import { ours, rawRedis, type CacheClient, type Contender } from './lib/contenders';
import { makePayload } from './lib/payload';
import { BenchRedisServer } from './lib/redis-server';
import { median } from './lib/stats';

const KEYS = Number(process.env.KEYS ?? 20_000);
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 64);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const WHO = process.env.WHO ?? 'both';
const PROFILE = process.env.PROFILE;
const PROFILES = resolve(__dirname, '../../../bench/results/profiles');

const session = new Session();
session.connect();

async function readAll(client: CacheClient, keys: readonly string[], load: (i: number) => unknown): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < keys.length; i = next++)
      await client.getOrSet(keys[i], () => Promise.resolve(load(i) as never));
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

/** One round: the writer fills Redis, the reader's L2 hits are timed (and profiled). Ops/s. */
async function round(contender: Contender, n: number): Promise<number> {
  const keys = Array.from({ length: KEYS }, (_, i) => `profile:${n}:${i}`);
  await readAll(contender.writer, keys, makePayload);
  const profiled = PROFILE !== undefined && contender.label.startsWith(PROFILE);
  if (profiled) {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const started = performance.now();
  await readAll(contender.reader!, keys, () => {
    throw new Error('an L2 hit was expected');
  });
  const opsPerSec = KEYS / ((performance.now() - started) / 1000);
  if (profiled) {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(PROFILES, { recursive: true });
    writeFileSync(resolve(PROFILES, `l2-hit-${PROFILE}-${n}.cpuprofile`), JSON.stringify(profile));
  }
  return opsPerSec;
}

async function main(): Promise<void> {
  const server = await BenchRedisServer.start();
  const contenders: Contender[] = [];
  try {
    const runs = (who: string) => WHO === who || WHO === 'all' || (WHO === 'both' && who !== 'floor');
    if (runs('raw')) contenders.push(await rawRedis(server.url));
    if (runs('floor')) contenders.push(await rawRedis(server.url, true));
    if (runs('ours')) contenders.push(await ours(server.url));
    const results = new Map<string, number[]>(contenders.map((c) => [c.label, []]));
    for (let n = 0; n < ROUNDS; n++) for (const c of contenders) results.get(c.label)!.push(await round(c, n));
    for (const [label, values] of results)
      console.log(`${label}: median ${Math.round(median(values))} ops/s (${values.map(Math.round).join(', ')})`);
  } finally {
    for (const c of contenders) await c.close();
    await server.stop();
  }
}
void main();
