import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, MemoryHealthIndicator, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DEFAULT_DATABASE_TIMEOUT_MS, DEFAULT_MAX_HEAP_BYTES } from './health.constants';
import { HEALTH_OPTIONS } from './health.module-definition';
import type { HealthModuleOptions } from './health.options';
import { RedisHealthIndicator } from './redis.health';

/**
 * Kubernetes-style probes. `live`: the process answers (no dependencies, so a
 * dependency outage never restarts pods). `ready`: the instance can serve.
 * `redis`: Redis itself, 503 when it does not answer.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly db: TypeOrmHealthIndicator,
    private readonly memory: MemoryHealthIndicator,
    @Inject(HEALTH_OPTIONS) private readonly options: HealthModuleOptions,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.db.pingCheck('database').withTimeout(this.options.databaseTimeoutMs ?? DEFAULT_DATABASE_TIMEOUT_MS),
      () => this.redis.readiness('redis', this.options.redisRequired ?? false),
      () => this.memory.checkHeap('memory_heap', this.options.maxHeapBytes ?? DEFAULT_MAX_HEAP_BYTES),
    ]);
  }

  @Get('redis')
  @HealthCheck()
  redisCheck() {
    return this.health.check([() => this.redis.ping('redis')]);
  }
}
