import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  MemoryHealthIndicator,
  type HealthCheckResult,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { DatabaseHealthIndicator } from './database.health';
import { DEFAULT_DATABASE_TIMEOUT_MS, DEFAULT_MAX_HEAP_BYTES } from './health.constants';
import { HEALTH_OPTIONS } from './health.module-definition';
import type { HealthModuleOptions } from './health.options';
import { RedisHealthIndicator, withDisabled } from './redis.health';

/**
 * Kubernetes-style probes. `live`: the process answers (no dependencies, so a
 * dependency outage never restarts pods). `ready`: the instance can serve.
 * `redis`: Redis itself, 503 when it does not answer. Without a configured
 * Redis both report it `disabled`, which is not a failure.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly db: DatabaseHealthIndicator,
    private readonly memory: MemoryHealthIndicator,
    @Inject(HEALTH_OPTIONS) private readonly options: HealthModuleOptions,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers (no dependency is checked)' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: the database answers, the heap is within bounds, Redis is up if required' })
  ready() {
    return this.check(
      [
        () => this.db.ping('database', this.options.databaseTimeoutMs ?? DEFAULT_DATABASE_TIMEOUT_MS),
        () => this.memory.checkHeap('memory_heap', this.options.maxHeapBytes ?? DEFAULT_MAX_HEAP_BYTES),
      ],
      () => this.redis.readiness('redis', this.options.redisRequired ?? false),
    );
  }

  @Get('redis')
  @HealthCheck()
  @ApiOperation({ summary: 'Redis itself: 503 when it does not answer (disabled without a configured Redis)' })
  redisCheck() {
    return this.check([], () => this.redis.ping('redis'));
  }

  /** Runs the checks, leaving out Redis when it is disabled and reporting it as such (on 200 and 503 alike). */
  private async check(others: HealthIndicatorFunction[], redis: HealthIndicatorFunction): Promise<HealthCheckResult> {
    const disabled = this.redis.disabled;
    if (!disabled) return this.health.check([...others, redis]);
    try {
      return withDisabled(await this.health.check(others), 'redis', disabled);
    } catch (error) {
      const body = error instanceof ServiceUnavailableException ? error.getResponse() : undefined;
      if (body && typeof body === 'object' && 'details' in body)
        withDisabled(body as HealthCheckResult, 'redis', disabled);
      throw error;
    }
  }
}
