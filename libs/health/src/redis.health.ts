import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RedisConnection } from '@app/redis';

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * Redis health as Terminus results. `ping` is the strict check behind
 * `/health/redis`; `readiness` decides whether a Redis outage should take the
 * instance out of rotation (only when Redis is required).
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisConnection,
  ) {}

  /** `up` with `latencyMs` when a PING answers within the command deadline, `down` otherwise. */
  async ping<Key extends string>(key: Key): Promise<HealthIndicatorResult<Key>> {
    const check = this.indicators.check(key);
    if (!this.redis.enabled) return check.up({ enabled: false, message: 'Redis is not configured: memory cache only' });
    const started = performance.now();
    try {
      const latencyMs = await this.redis.ping();
      return check.up({ target: this.redis.target, latencyMs: round(latencyMs) });
    } catch (error) {
      return check.down({
        target: this.redis.target,
        latencyMs: round(performance.now() - started),
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** Like `ping`, but an outage of an optional Redis is `degraded`, which keeps readiness at 200. */
  async readiness<Key extends string>(key: Key, required: boolean): Promise<HealthIndicatorResult<Key>> {
    const result = await this.ping(key);
    const entry = result[key];
    if (entry.status !== 'down' || required) return result;
    const { status: _status, ...details } = entry;
    return this.indicators.check(key).degraded({ ...details, fallback: 'memory' });
  }
}
