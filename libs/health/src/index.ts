export { HealthModule } from './health.module';
export type { HealthModuleOptions } from './health.options';
export { RedisHealthIndicator } from './redis.health';
export { DatabaseHealthIndicator } from './database.health';
export { HealthController } from './health.controller';
