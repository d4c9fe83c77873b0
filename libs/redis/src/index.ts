export { RedisModule } from './redis.module';
export {
  RedisConnection,
  type RedisClient,
  type RedisCommander,
  type RedisConnectionEvent,
  type RedisMessageListener,
} from './redis-connection.service';
export type { RedisClusterClient } from './cluster-client';
export type { RedisClusterOptions, RedisModuleOptions, RedisSentinelOptions } from './redis.options';
export { RedisNotConfiguredError, RedisTimeoutError, RedisUnavailableError } from './redis.errors';
export { withDeadline } from './deadline';
export { isConnectionFailure } from './connection-failure';
export { isErrorReply, redisScript, sendRaw, sendScript, type RedisScript } from './raw-command';
export { redactRedisUrl, hasPassword } from './redis-url';
export { reconnectDelay } from './reconnect-strategy';
export { BackgroundScope } from './background-scope';
