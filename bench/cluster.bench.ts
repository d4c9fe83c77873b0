/**
 * Redis Cluster benchmark: L2 hits and miss-and-load at 1, 16 and 64 calls in
 * flight on a three-master cluster of the benchmark's own (no replicas),
 * ours against cache-manager 7 + @keyv/redis, with node-redis's cluster
 * client as the reference row, in one run. Run with `npm run bench:cluster`;
 * writes bench/results/cluster.md and prints it.
 */
import { Logger } from '@nestjs/common';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { TestRedisCluster } from '../test/support/redis-cluster';
import { concurrencyTables } from './lib/cache-report';
import { cacheManagerOnCluster, oursOnCluster, rawCluster } from './lib/cluster-contenders';
import { CONCURRENCY, concurrencyRuns } from './lib/concurrency-scenarios';
import type { Contender } from './lib/contenders';
import { table } from './lib/markdown';
import { progress } from './lib/progress';

const RESULTS = join(process.cwd(), 'bench', 'results', 'cluster.md');

async function main(): Promise<void> {
  Logger.overrideLogger(['error']);
  const cluster = await TestRedisCluster.start({ masters: 3, replicas: 0 });
  const nodes = [...cluster.servers.keys()].map((port) => ({ host: '127.0.0.1', port }));
  const contenders: Contender[] = [];
  try {
    const version = String(await cluster.command(nodes[0].port, ['INFO', 'server'])).match(/redis_version:(\S+)/)?.[1];
    contenders.push(await rawCluster(nodes), await oursOnCluster(nodes), await cacheManagerOnCluster(nodes));
    progress('calls in flight on the cluster');
    const rows = await concurrencyRuns(contenders);
    const report = [
      '# Redis Cluster benchmark',
      '',
      `- date: ${new Date().toISOString()}`,
      `- Node ${process.version}, ${cpus()[0]?.model ?? 'CPU'} × ${cpus().length}, load average at start ${loadavg()
        .map((n) => n.toFixed(2))
        .join(' / ')}`,
      `- Redis ${version ?? '?'}: three masters of the benchmark's own on 127.0.0.1 (\`redis-cli --cluster create\`, no replicas, no persistence), on the same 2 cores as the benchmark`,
      `- ${CONCURRENCY.keys.toLocaleString('en-US')} fresh keys per level, round and contender; median of ${CONCURRENCY.rounds} rounds; the writer instance loads them, a second instance reads each once`,
      '',
      '## Contenders',
      '',
      table(
        ['contender', 'setup'],
        contenders.map((c) => [c.label, c.config]),
      ),
      '',
      '## Calls in flight: miss and load, then L2 hit',
      '',
      concurrencyTables(rows),
      '',
      '## Reading it',
      '',
      '- On a cluster, ours reads an entry and its tags\' markers in its slot group (see the README\'s "Redis Cluster"): the reads of one event-loop turn share one `MGET` per group, so 64 reads in flight spread over up to 16 `MGET`s. The raw row and cache-manager send one `GET` per read.',
      '- The target line below the tables is issue 11’s, set for one node; it is shown for comparison.',
      '',
    ].join('\n');
    await mkdir(dirname(RESULTS), { recursive: true });
    await writeFile(RESULTS, report);
    process.stdout.write(`${report}\n`);
  } finally {
    for (const contender of contenders) await contender.close().catch(() => undefined);
    await cluster.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
