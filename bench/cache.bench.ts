/**
 * Cache benchmark: our TieredCache against cache-manager 7, cacheable and
 * bentocache, side by side in one run, on a redis-server of its own.
 * Run with `npm run bench:cache`; writes bench/results/cache.md and prints it.
 */
import { Logger } from '@nestjs/common';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { renderReport } from './lib/cache-report';
import {
  bentocache,
  cacheable,
  cacheManagerMemory,
  cacheManagerRedis,
  cacheManagerTiered,
  ours,
  rawRedis,
  type Contender,
} from './lib/contenders';
import { concurrencyRuns } from './lib/concurrency-scenarios';
import { coldSet, l1Hits, l2Hits, missAndLoad } from './lib/latency-scenarios';
import { progress } from './lib/progress';
import { BenchRedisServer, redisVersion } from './lib/redis-server';
import { hitRatios } from './lib/zipf-scenario';

// npm runs scripts from the package root.
const RESULTS = join(process.cwd(), 'bench', 'results', 'cache.md');

async function closeAll(contenders: readonly Contender[]): Promise<void> {
  for (const contender of contenders) {
    await contender.close().catch((error: unknown) => progress(`closing ${contender.label} failed: ${String(error)}`));
  }
}

/** Builds every contender on `url`, runs the scenarios one after another, returns the report. */
async function run(url: string): Promise<string> {
  const contenders: Contender[] = [];
  try {
    contenders.push(await ours(url));
    contenders.push(cacheManagerRedis(url), cacheManagerMemory(), cacheManagerTiered(url), cacheable(url));
    contenders.push(await bentocache(url));
    progress('L1 hit');
    const l1 = await l1Hits(contenders);
    const cold = coldSet();
    progress('miss and load');
    const miss = await missAndLoad(contenders, cold);
    progress('L2 hit');
    const l2 = await l2Hits(miss, cold);
    progress('calls in flight (with the raw client as reference)');
    const raw = await rawRedis(url);
    const floor = await rawRedis(url, true);
    contenders.push(raw, floor);
    const concurrency = await concurrencyRuns([raw, floor, ...contenders.filter((c) => c !== raw && c !== floor)]);
    progress('Zipf hit ratio');
    const zipf = await hitRatios();
    return renderReport({ redisVersion: await redisVersion(url), contenders, l1, l2, miss, concurrency, zipf });
  } finally {
    await closeAll(contenders);
  }
}

async function main(): Promise<void> {
  // Our libraries log through Nest's Logger; connection chatter would interleave with the progress lines.
  Logger.overrideLogger(['error', 'warn']);
  const server = await BenchRedisServer.start();
  const interrupt = (signal: NodeJS.Signals) => {
    progress(`${signal}: stopping redis-server on port ${server.port}`);
    void server.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  progress(`redis-server on port ${server.port}`);
  try {
    const report = await run(server.url);
    await mkdir(dirname(RESULTS), { recursive: true });
    await writeFile(RESULTS, report);
    process.stdout.write(report);
    progress(`written to ${RESULTS}`);
  } finally {
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
