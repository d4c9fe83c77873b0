import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DatabaseHealthIndicator } from './database.health';
import { HealthController } from './health.controller';
import { HealthConfigurableModule } from './health.module-definition';
import { RedisHealthIndicator } from './redis.health';

/**
 * `GET /health/live`, `/health/ready`, `/health/redis` (Terminus format).
 * Needs `RedisModule` and a TypeORM data source in the application.
 * `HealthModule.forRoot(options)` or `forRootAsync({ useFactory, inject })`.
 */
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, DatabaseHealthIndicator],
  exports: [RedisHealthIndicator, DatabaseHealthIndicator],
})
export class HealthModule extends HealthConfigurableModule {}
