import type { AiProvider } from './ai-provider';
import type { PriceTable } from './ai-ledger';
import { DEFAULT_AI_NAMESPACE, DEFAULT_AI_TTL_MS } from './ai.constants';
import { AiArgumentError } from './ai.errors';

/**
 * Who shares a cached completion: everyone (`global`), the members of one
 * boardroom, or only the user who asked. The scope is part of the key.
 */
export type AiCacheScope = 'global' | 'boardroom' | 'user';

/** Options of `AiModule.forRoot` / `forRootAsync`. Durations in ms. */
export interface AiModuleOptions {
  /** The backend answers come from. */
  provider: AiProvider;
  /** Lifetime of a cached completion, and the most a request's `cache.ttl` may ask. @default 1800000 */
  ttl?: number;
  /** How long after expiry an answer may still be served, marked stale, when the provider fails. @default 0 */
  grace?: number;
  /** Who shares a cached answer. @default 'boardroom' */
  scope?: AiCacheScope;
  /** Models whose answers are cached at any temperature (deterministic backends); others only at temperature 0. */
  cacheModels?: readonly string[];
  /** Prices per million tokens, for the money the cache saved. @default {} (nothing is priced) */
  prices?: PriceTable;
  /** Namespace of the entries in the cache. @default 'ai' */
  namespace?: string;
  /**
   * How long an identical request on another instance waits for the one
   * being answered before asking the provider itself: at least the
   * provider's longest answer time. @default 120000
   */
  lockWaitMs?: number;
}

export interface ResolvedAiOptions {
  provider: AiProvider;
  ttlMs: number;
  graceMs: number;
  scope: AiCacheScope;
  cacheModels: ReadonlySet<string>;
  prices: PriceTable;
  namespace: string;
  lockWaitMs: number;
}

export function resolveAiOptions(options: AiModuleOptions): ResolvedAiOptions {
  if (!options?.provider) throw new AiArgumentError('AiModule needs a provider');
  const positive = (name: string, value: number | undefined, min: number) => {
    if (value !== undefined && !(Number.isFinite(value) && value >= min))
      throw new AiArgumentError(`AiModule ${name} must be a number >= ${min}, got ${value}`);
  };
  positive('ttl', options.ttl, 1000);
  positive('grace', options.grace, 0);
  positive('lockWaitMs', options.lockWaitMs, 0);
  const scope = options.scope ?? 'boardroom';
  if (!['global', 'boardroom', 'user'].includes(scope))
    throw new AiArgumentError(`AiModule scope must be global, boardroom or user, got ${String(scope)}`);
  return {
    provider: options.provider,
    ttlMs: options.ttl ?? DEFAULT_AI_TTL_MS,
    graceMs: options.grace ?? 0,
    scope,
    cacheModels: new Set(options.cacheModels ?? []),
    prices: options.prices ?? {},
    namespace: options.namespace ?? DEFAULT_AI_NAMESPACE,
    lockWaitMs: options.lockWaitMs ?? 120_000,
  };
}
