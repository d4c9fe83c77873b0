export { RedisModule } from './redis.module';
export { RedisConnection, type RedisClient, type RedisConnectionEvent } from './redis-connection.service';
export type { RedisModuleOptions, RedisSentinelOptions } from './redis.options';
export { RedisNotConfiguredError, RedisTimeoutError, RedisUnavailableError } from './redis.errors';
export { withDeadline } from './deadline';
export { redactRedisUrl, hasPassword } from './redis-url';
export { reconnectDelay } from './reconnect-strategy';
export { BackgroundScope } from './background-scope';
