import { Inject, Injectable, Logger, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CacheService } from '@app/cache';
import { RedisConnection } from '@app/redis';
import { CACHE_ADMIN_OPTIONS } from './cache-admin.constants';
import type { ResolvedCacheAdminOptions } from './cache-admin.options';

/** One point of the dashboard's charts. */
export interface StatsSample {
  /** Epoch ms. */
  at: number;
  /** Hits and misses since start, per namespace and layer (`{ns}.{layer}`): rates are differences of two samples. */
  counters: Record<string, { hits: number; misses: number }>;
  l1Bytes: number;
  l1Entries: number;
  /** Redis figures, null when it did not answer (or there is none). */
  redis: { latencyMs: number; usedMemory: number; opsPerSec: number } | null;
}

/**
 * A ring buffer of stats samples (every `sampleIntervalMs`, the last
 * `sampleCount`), so the dashboard's charts have history the moment the page
 * opens. A sample that cannot reach Redis records `redis: null`; sampling
 * never throws.
 */
@Injectable()
export class StatsSampler implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(StatsSampler.name);
  private readonly ring: StatsSample[] = [];
  private timer?: NodeJS.Timeout;
  private sampling = false;

  constructor(
    private readonly cache: CacheService,
    @Inject(CACHE_ADMIN_OPTIONS) private readonly options: ResolvedCacheAdminOptions,
    @Optional() private readonly redis?: RedisConnection,
  ) {}

  onModuleInit(): void {
    if (this.options.sampleIntervalMs === 0) return;
    this.timer = setInterval(() => void this.sample(), this.options.sampleIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The samples, oldest first. */
  samples(): StatsSample[] {
    return [...this.ring];
  }

  /** Takes one sample now (also what the timer does). */
  async sample(): Promise<StatsSample | undefined> {
    if (this.sampling) return undefined;
    this.sampling = true;
    try {
      const counters: StatsSample['counters'] = {};
      for (const [namespace, layers] of Object.entries(this.cache.stats())) {
        for (const [layer, c] of Object.entries(layers))
          counters[`${namespace}.${layer}`] = { hits: c.hits, misses: c.misses };
      }
      const { l1 } = this.cache.status();
      const sample: StatsSample = {
        at: Date.now(),
        counters,
        l1Bytes: l1.bytes,
        l1Entries: l1.entries,
        redis: await this.redisFigures(),
      };
      this.ring.push(sample);
      if (this.ring.length > this.options.sampleCount) this.ring.shift();
      return sample;
    } catch (error) {
      this.logger.warn(`stats sample failed: ${String(error)}`);
      return undefined;
    } finally {
      this.sampling = false;
    }
  }

  private async redisFigures(): Promise<StatsSample['redis']> {
    if (!this.redis?.enabled || !this.redis.available) return null;
    try {
      const latencyMs = await this.redis.ping();
      const info = await this.redis.info('stats');
      const memory = await this.redis.info('memory');
      return {
        latencyMs,
        usedMemory: Number(memory.used_memory ?? 0),
        opsPerSec: Number(info.instantaneous_ops_per_sec ?? 0),
      };
    } catch {
      return null;
    }
  }
}
