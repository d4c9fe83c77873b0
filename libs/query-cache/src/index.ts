export { QueryCache } from './query-cache';
export { CachedRepository } from './cached-repository';
export { QueryCacheModule } from './query-cache.module';
export type { QueryCacheModuleOptions } from './query-cache.module-definition';
export { embedIn, type CachedReadOptions, type EmbedDeclaration, type QueryCacheOptions } from './query-cache.options';
export { QueryTags } from './query-tags';
export { QueryCacheSubscriber } from './query-cache.subscriber';
export {
  queryResultCacheProvider,
  TieredQueryResultCache,
  type QueryResultCacheProviderOptions,
} from './typeorm-cache.provider';
export { DEFAULT_QUERY_TTL_MS } from './query-cache.constants';
export { QueryCacheArgumentError, QueryCacheInvalidationError } from './query-cache.errors';
export {
  PostgresInvalidationChannel,
  type ListenClient,
  type ListenConnection,
  type PostgresChannelOptions,
} from './postgres-invalidation-channel';
