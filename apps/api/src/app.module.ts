import { Module, type DynamicModule, type ForwardReference, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { SkipThrottle } from '@nestjs/throttler';
import { AiModule } from '@app/ai';
import { AuthModule, JwtAuthGuard, Public, RateLimitGuard, RolesGuard } from '@app/auth';
import { CacheModule } from '@app/cache';
import { AdminDashboardController, CacheAdminModule } from '@app/cache-admin';
import { ConversationStateModule } from '@app/conversation-state';
import { HealthController, HealthModule } from '@app/health';
import { HttpCacheModule } from '@app/http-cache';
import { MetricsController, MetricsModule } from '@app/metrics';
import { QueryCacheModule } from '@app/query-cache';
import { RedisModule } from '@app/redis';
import { AuthApiModule } from './auth/auth-api.module';
import { BoardroomsModule } from './boardrooms/boardrooms.module';
import { CacheAdminWiringModule } from './cache-admin/cache-admin-wiring';
import { createAiProvider, pendingTimeoutMs, providerMaxMs } from './conversations/ai-provider.factory';
import { ConversationsModule } from './conversations/conversations.module';
import { UsersModule } from './users/users.module';
import { canonicalUuidParam } from './common/uuid.pipe';
import type { AppConfig } from './config/app-config';
import { APP_CONFIG } from './config/app-config.constants';
import { AppConfigModule, type AppConfigOptions } from './config/app-config.module';
import { DatabaseModule } from './database/database.module';
import { AllExceptionsFilter } from './http/all-exceptions.filter';
import { BoundedValidationPipe } from './http/bounded-validation.pipe';
import { ApiUnthrottled } from './http/openapi';
import { isServerFailure } from './http/domain-errors';
import { LoggingModule } from './logging/logging.module';
import { AuthPingController } from './ping/auth-ping.controller';
import { PingController } from './ping/ping.controller';

// Probes, Prometheus, the benchmark ceiling and the dashboard's static files
// are open to anyone and never rate limited: the libraries that own them do
// not depend on auth (the dashboard's data is behind the admin API).
for (const controller of [HealthController, MetricsController, PingController, AdminDashboardController]) {
  Public()(controller);
  SkipThrottle()(controller);
  ApiUnthrottled()(controller);
}

/** A module `AppModule.forRoot` can add. */
export type AppModuleImport = Type | DynamicModule | Promise<DynamicModule> | ForwardReference;

/** Composition root: configuration, infrastructure libraries and domain modules. */
@Module({
  imports: [
    LoggingModule,
    DatabaseModule,
    RedisModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        url: config.redis.url,
        sentinel: config.redis.sentinel,
        cluster: config.redis.cluster,
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
    AuthModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({ prefix: config.cache.prefix, ...config.auth }),
    }),
    AuthApiModule,
    QueryCacheModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({ ttl: config.cache.queryTtlMs }),
    }),
    HttpCacheModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ttl: config.cache.httpTtlMs,
        grace: config.cache.httpGraceMs,
        staleOn: isServerFailure,
        canonicalParam: canonicalUuidParam,
      }),
    }),
    AiModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        provider: createAiProvider(config.ai),
        ttl: config.ai.cache.ttlMs,
        grace: config.ai.cache.graceMs,
        scope: config.ai.cache.scope,
        cacheModels: config.ai.cache.models,
        prices: config.ai.prices,
        // A waiting instance never asks the provider twice.
        lockWaitMs: providerMaxMs(config.ai),
      }),
    }),
    ConversationStateModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ttl: config.conversations.ttlMs,
        maxMessages: config.conversations.maxMessages,
        maxTokens: config.conversations.maxTokens,
        // Past a waiter's lock wait and its own provider call, with a minute to spare.
        pendingTimeout: pendingTimeoutMs(config.ai),
      }),
    }),
    UsersModule,
    BoardroomsModule,
    ConversationsModule,
    CacheAdminModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({ sampleIntervalMs: config.admin.sampleIntervalMs }),
    }),
    CacheAdminWiringModule,
  ],
  controllers: [PingController, AuthPingController],
  providers: [
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
    // Order matters: authenticate, then check the role, then count per user.
    { provide: APP_GUARD, useExisting: JwtAuthGuard },
    { provide: APP_GUARD, useExisting: RolesGuard },
    { provide: APP_GUARD, useExisting: RateLimitGuard },
    {
      provide: APP_PIPE,
      useValue: new BoundedValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
    },
  ],
})
export class AppModule {
  /**
   * The application, configured from the environment (and `options`, for
   * tests); `modules` adds modules beside the app's own (the benchmark's peer routes).
   */
  static forRoot(options: AppConfigOptions = {}, modules: AppModuleImport[] = []): DynamicModule {
    return { module: AppModule, imports: [AppConfigModule.forRoot(options), ...modules] };
  }
}
