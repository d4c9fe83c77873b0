import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RedisConnection } from '@app/redis';

const round = (ms: number) => Math.round(ms * 100) / 100;

/** What `/health/redis` and readiness report for Redis when no Redis is configured. */
export interface DisabledRedis {
  status: 'disabled';
  enabled: false;
  message: string;
}

/**
 * A Terminus result with one `disabled` entry added (to `info` and
 * `details`): Terminus knows only up, degraded and down, and drops any other
 * status, so an indicator that is switched off is reported beside it. Works
 * on the 503 body too (the same object the thrown exception carries).
 */
export function withDisabled<T extends { info?: object; details: object }>(
  result: T,
  key: string,
  entry: DisabledRedis,
): T {
  Object.assign(result.details, { [key]: entry });
  if (result.info) Object.assign(result.info, { [key]: entry });
  return result;
}

/**
 * Redis health as Terminus results. `ping` is the strict check behind
 * `/health/redis`; `readiness` decides whether a Redis outage should take the
 * instance out of rotation (only when Redis is required); `disabled` is the
 * entry reported instead of either when no Redis is configured.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisConnection,
  ) {}

  /**
   * The entry when no Redis is configured (`REDIS_URL` unset, or
   * `CACHE_BACKEND=memory`), else undefined: neither up (nothing answered)
   * nor down (nothing is missing).
   */
  get disabled(): DisabledRedis | undefined {
    if (this.redis.enabled) return undefined;
    return { status: 'disabled', enabled: false, message: 'Redis is not configured: memory cache only' };
  }

  /**
   * `up` with `latencyMs` when a PING answers within the command deadline,
   * `down` otherwise (Redis configured). No address: the probes answer
   * anyone, and where Redis runs is for admins (`GET /api/v1/cache/health`).
   */
  async ping<Key extends string>(key: Key): Promise<HealthIndicatorResult<Key>> {
    const check = this.indicators.check(key);
    const started = performance.now();
    try {
      const latencyMs = await this.redis.ping();
      return check.up({ latencyMs: round(latencyMs) });
    } catch (error) {
      return check.down({
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
