import { Module } from '@nestjs/common';
import { HttpCacheStats } from './http-cache-stats';
import { HTTP_CACHE_RESOLVED_OPTIONS } from './http-cache.constants';
import { HttpCacheInterceptor } from './http-cache.interceptor';
import { HTTP_CACHE_OPTIONS, HttpCacheConfigurableModule } from './http-cache.module-definition';
import { resolveHttpCacheOptions, type HttpCacheModuleOptions } from './http-cache.options';

/**
 * `HttpCacheModule.forRoot({ ttl, grace })` (or `forRootAsync`), after
 * `CacheModule`: global, provides what `HttpCacheInterceptor` needs and
 * its counters. Routes opt in with `@HttpCache()`.
 */
@Module({
  providers: [
    {
      provide: HTTP_CACHE_RESOLVED_OPTIONS,
      inject: [HTTP_CACHE_OPTIONS],
      useFactory: (options: HttpCacheModuleOptions) => resolveHttpCacheOptions(options),
    },
    { provide: HttpCacheStats, useValue: new HttpCacheStats() },
    HttpCacheInterceptor,
  ],
  // What `@HttpCache()`'s interceptor needs, in every module that uses it.
  exports: [HttpCacheInterceptor, HttpCacheStats, HTTP_CACHE_RESOLVED_OPTIONS],
})
export class HttpCacheModule extends HttpCacheConfigurableModule {}
