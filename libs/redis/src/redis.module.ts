import { Module } from '@nestjs/common';
import { RedisConfigurableModule } from './redis.module-definition';
import { RedisConnection } from './redis-connection.service';

/**
 * The shared Redis connections (a command client and a subscriber).
 * `RedisModule.forRoot({ url })` or `forRootAsync({ useFactory, inject })`;
 * global by default so every library can inject `RedisConnection`.
 */
@Module({
  providers: [RedisConnection],
  exports: [RedisConnection],
})
export class RedisModule extends RedisConfigurableModule {}
