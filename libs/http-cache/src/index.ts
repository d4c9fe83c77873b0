export { HttpCacheModule } from './http-cache.module';
export { HttpCacheInterceptor } from './http-cache.interceptor';
export { HttpCache, NoHttpCache, type HttpCacheOptions, type HttpCacheScope } from './http-cache.decorator';
export {
  resolveHttpCacheOptions,
  serverFailure,
  userIdentity,
  type HttpCacheModuleOptions,
  type ResolvedHttpCacheOptions,
} from './http-cache.options';
export { HttpCacheStats } from './http-cache-stats';
export { HttpCacheArgumentError } from './http-cache.errors';
export { DEFAULT_HTTP_TTL_MS, X_CACHE, type CacheOutcome } from './http-cache.constants';
export type { StoredResponse, Unstorable } from './stored-response';
export { parseRequestDirectives, type RequestDirectives } from './request-directives';
export { ifNoneMatch, strongEtag } from './etag';
