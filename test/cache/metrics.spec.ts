import { Test, type TestingModule } from '@nestjs/testing';
import { register } from 'prom-client';
import { CacheModule, CacheService } from '@app/cache';
import { CacheMetricsBridge, MetricsModule } from '@app/metrics';
import { RedisModule } from '@app/redis';
import { createCacheInstance, uniquePrefix, type CacheInstance } from '../support/cache-instance';
import { waitFor } from '../support/free-port';
import { TestRedisServer } from '../support/redis-server';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The value of one sample in the registry's text output (undefined when absent). */
async function sample(name: string, labels: string): Promise<number | undefined> {
  const text = await register.metrics();
  const escaped = `${name}{${labels}}`.replace(/[{}()|.*+?^$[\]\\]/g, '\\$&');
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

describe(CacheMetricsBridge.name, () => {
  let server: TestRedisServer;
  let moduleRef: TestingModule;
  let cache: CacheService;
  let other: CacheInstance;

  beforeAll(async () => {
    server = await TestRedisServer.start();
    const prefix = uniquePrefix();
    moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ url: server.url, commandTimeoutMs: 200, reconnectMaxDelayMs: 300 }),
        CacheModule.forRoot({ prefix, probeIntervalMs: 100, maxEntryBytes: 1_000 }),
        MetricsModule.forRoot({}),
      ],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    cache = moduleRef.get(CacheService);
    other = await createCacheInstance(server.url, { prefix });
  });

  afterAll(async () => {
    await other?.close();
    await moduleRef?.close();
    await server?.stop();
  });

  it('exports sets, deletes, errors and stale hits per namespace and layer', async () => {
    const ns = cache.namespace('m');
    await ns.set('k', 'v');
    await ns.delete('k');
    expect(await ns.getOrSet('big', () => 'x'.repeat(2_000))).toHaveLength(2_000); // uncacheable: an error
    await ns.getOrSet('stale', () => 'old', { ttl: 50, grace: 10_000 });
    await sleep(100);
    expect(await ns.getOrSet('stale', () => Promise.reject(new Error('db down')), { grace: 10_000 })).toBe('old');
    expect(await sample('cache_sets_total', 'namespace="m",layer="l1"')).toBe(2);
    expect(await sample('cache_sets_total', 'namespace="m",layer="l2"')).toBe(2);
    expect(await sample('cache_deletes_total', 'namespace="m",layer="l1"')).toBe(1);
    expect(await sample('cache_deletes_total', 'namespace="m",layer="l2"')).toBe(1);
    expect(await sample('cache_errors_total', 'namespace="m",layer="l1"')).toBe(1);
    // Redis answered the read of the expired entry: the grace value came from L2.
    expect(await sample('cache_stale_hits_total', 'namespace="m",layer="l2"')).toBe(1);
  });

  it('exports hits, misses and the hit ratio as of the scrape (no refresh, no lag)', async () => {
    const ns = cache.namespace('ratio');
    await ns.getOrSet('k', () => 'v'); // two misses (l1, l2), then a load
    for (let i = 0; i < 3; i++) await ns.get('k'); // three L1 hits
    expect(await sample('cache_hits_total', 'namespace="ratio",layer="l1"')).toBe(3);
    expect(await sample('cache_misses_total', 'namespace="ratio",layer="l1"')).toBe(1);
    expect(await sample('cache_hit_ratio', 'namespace="ratio",layer="l1"')).toBe(0.75);
    await ns.get('k');
    expect(await sample('cache_hit_ratio', 'namespace="ratio",layer="l1"')).toBe(0.8);
  });

  it('exports L1 get durations (sampled), and delete and invalidate durations per layer', async () => {
    const ns = cache.namespace('timed');
    await ns.set('k', 'v');
    const before = (await sample('cache_operation_duration_seconds_count', 'operation="get",layer="l1"')) ?? 0;
    for (let i = 0; i < 640; i++) await ns.get('k');
    const sampled = (await sample('cache_operation_duration_seconds_count', 'operation="get",layer="l1"'))! - before;
    expect(sampled).toBeGreaterThanOrEqual(10); // 640 reads, one in 64 timed
    expect(sampled).toBeLessThanOrEqual(11);
    const durations = async () => {
      const counts: Record<string, number> = {};
      for (const operation of ['delete', 'invalidate'])
        for (const layer of ['l1', 'l2'])
          counts[`${operation} ${layer}`] =
            (await sample('cache_operation_duration_seconds_count', `operation="${operation}",layer="${layer}"`)) ?? 0;
      return counts;
    };
    const start = await durations();
    await ns.delete('k');
    await cache.invalidateTags(['some-tag']);
    await cache.clearNamespace('timed');
    expect(await durations()).toEqual({
      'delete l1': start['delete l1'] + 1,
      'delete l2': start['delete l2'] + 1,
      'invalidate l1': start['invalidate l1'] + 2,
      'invalidate l2': start['invalidate l2'] + 2,
    });
  });

  it('counts bus messages published, received and ignored', async () => {
    const count = async (direction: string) => (await sample('cache_bus_messages_total', `direction="${direction}"`))!;
    const [published, received, ignored] = [await count('published'), await count('received'), await count('ignored')];
    await cache.namespace('bus').set('k', 1); // published, and its own echo ignored
    await other.cache.namespace('bus').delete('k'); // received
    expect(await count('published')).toBe(published + 1);
    expect(await count('ignored')).toBe(ignored + 1);
    expect(await count('received')).toBe(received + 1);
  });

  it('exports lock acquisitions by outcome', async () => {
    const count = async (outcome: string) => (await sample('cache_lock_acquisitions_total', `outcome="${outcome}"`))!;
    const [acquired, busy] = [await count('acquired'), await count('busy')];
    const lease = await cache.lock.acquire('metered', { waitMs: 0 });
    expect(await other.cache.lock.acquire('metered', { waitMs: 0 })).toBeUndefined(); // another instance: not counted here
    expect(await cache.lock.acquire('metered', { waitMs: 0 })).toBeUndefined();
    await lease!.release();
    expect(await count('acquired')).toBe(acquired + 1);
    expect(await count('busy')).toBe(busy + 1);
    expect(await count('failed')).toBe(0);
  });

  it('exports the breaker state as it changes', async () => {
    moduleRef.get(CacheMetricsBridge).refresh();
    expect(await sample('cache_breaker_state', 'state="closed"')).toBe(1);
    expect(await sample('cache_breaker_state', 'state="open"')).toBe(0);
    const opened = await sample('cache_breaker_transitions_total', 'to="open"');
    const closed = await sample('cache_breaker_transitions_total', 'to="closed"');
    expect([opened, closed].every((n) => n !== undefined)).toBe(true);
    await server.kill();
    await waitFor(() => cache.status().breaker === 'open', 2_000, 'the breaker to open');
    // No refresh: the change itself updated the gauge.
    expect(await sample('cache_breaker_state', 'state="open"')).toBe(1);
    expect(await sample('cache_breaker_state', 'state="closed"')).toBe(0);
    await server.restart();
    await waitFor(() => cache.status().usingRedis, 5_000, 'the breaker to close');
    expect(await sample('cache_breaker_state', 'state="closed"')).toBe(1);
    expect(await sample('cache_breaker_transitions_total', 'to="open"')).toBe(opened! + 1);
    expect(await sample('cache_breaker_transitions_total', 'to="closed"')).toBe(closed! + 1);
  });
});
