import { Module, ValidationPipe, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { CacheModule } from '@app/cache';
import { HealthModule } from '@app/health';
import { MetricsModule } from '@app/metrics';
import { RedisModule } from '@app/redis';
import type { AppConfig } from './config/app-config';
import { APP_CONFIG } from './config/app-config.constants';
import { AppConfigModule, type AppConfigOptions } from './config/app-config.module';
import { DatabaseModule } from './database/database.module';
import { AllExceptionsFilter } from './http/all-exceptions.filter';
import { LoggingModule } from './logging/logging.module';
import { PingController } from './ping/ping.controller';

/** Composition root: configuration, infrastructure libraries and domain modules. */
@Module({
  imports: [
    LoggingModule,
    DatabaseModule,
    RedisModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        url: config.redis.url,
        required: config.cache.backend === 'redis',
        connectTimeoutMs: config.redis.connectTimeoutMs,
        commandTimeoutMs: config.redis.commandTimeoutMs,
        reconnectMaxDelayMs: config.redis.reconnectMaxDelayMs,
        warnWithoutPassword: config.runtime.nodeEnv === 'production',
        clientName: `${config.cache.prefix}-api`,
      }),
    }),
    CacheModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        backend: config.cache.backend,
        prefix: config.cache.prefix,
        l1MaxEntries: config.cache.l1MaxEntries,
        l1MaxBytes: config.cache.l1MaxBytes,
        defaultTtlMs: config.cache.defaultTtlMs,
      }),
    }),
    HealthModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        redisRequired: config.cache.backend === 'redis',
        maxHeapBytes: config.health.maxHeapBytes,
      }),
    }),
    MetricsModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({ token: config.metrics.token }),
    }),
  ],
  controllers: [PingController],
  providers: [
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
    {
      provide: APP_PIPE,
      useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
    },
  ],
})
export class AppModule {
  /** The application, configured from the environment (and `options`, for tests). */
  static forRoot(options: AppConfigOptions = {}): DynamicModule {
    return { module: AppModule, imports: [AppConfigModule.forRoot(options)] };
  }
}
