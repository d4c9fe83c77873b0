import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CacheService, type NamespacedCache } from '@app/cache';
import {
  replayChunks,
  storableText,
  type CompletionRequest,
  type CompletionResult,
  type TokenSink,
} from './ai-provider';
import { AiLedger, type CompletionOutcome } from './ai-ledger';
import { AI_RESOLVED_OPTIONS } from './ai.constants';
import type { AiCacheScope, ResolvedAiOptions } from './ai.options';

/**
 * Per-request cache controls, after LiteLLM's: `ttl` (seconds) shortens how
 * long this answer is kept (never beyond the configured TTL); `maxAge`
 * (seconds) accepts a cached answer only if it is younger, a stale one
 * after a provider failure included (the failure is thrown); `noCache` skips
 * the lookup (the fresh answer is still stored); `noStore` does not store
 * the answer (a cached one may still be served) and runs on its own, outside
 * the single flight: no request waits for its call, nor it for another's (so
 * no expired answer stands in for its provider's failure either).
 */
export interface CompletionControls {
  readonly ttl?: number;
  readonly maxAge?: number;
  readonly noCache?: boolean;
  readonly noStore?: boolean;
}

/** Who is asking: what the cache scope keys on. */
export interface CompletionAudience {
  readonly boardroomId: string;
  readonly userId: string;
}

/** One completion to answer. */
export interface CompletionCall {
  readonly request: CompletionRequest;
  readonly audience: CompletionAudience;
  readonly controls?: CompletionControls;
  /** Receives the text as it comes: from the provider on a miss, replayed by the caller on a hit. */
  readonly onToken?: TokenSink;
}

/** The answer and where it came from. */
export interface CompletionAnswer extends CompletionResult {
  /** Served from the cache: the provider was not called for this request. */
  readonly cached: boolean;
  /** A cached answer past its TTL, served because the provider failed (inside grace). */
  readonly stale: boolean;
  readonly outcome: CompletionOutcome;
}

/** What the cache stores: the provider's answer and usage, and when it was made. */
interface StoredCompletion extends CompletionResult {
  /** Epoch ms at which the provider answered. */
  readonly createdAt: number;
  /** Epoch ms after which the entry is past its TTL (grace only). */
  readonly freshUntil: number;
}

/** Slack when judging a value's own freshness against the cache's clock (ms). */
const FRESHNESS_SLACK_MS = 1_000;

/**
 * The completion cache: the same question asked of the same model with the
 * same history and parameters is answered once per TTL. The key is the
 * SHA-256 of the provider, the model, the scope, the *whole* message list and
 * the parameters; only deterministic requests are cached (temperature 0, or
 * a model listed in `cacheModels`). Built on the cache core's `getOrSet` with
 * `lockAcrossInstances`: identical concurrent prompts call the provider once,
 * across instances too; a provider failure within grace serves the expired
 * answer, marked stale. Every result is counted in the `AiLedger`.
 */
@Injectable()
export class CompletionCache {
  private readonly cache: NamespacedCache;

  constructor(
    cacheService: CacheService,
    readonly ledger: AiLedger,
    @Inject(AI_RESOLVED_OPTIONS) private readonly options: ResolvedAiOptions,
  ) {
    this.cache = cacheService.namespace(options.namespace);
  }

  /** The name of the provider answers come from. */
  get providerName(): string {
    return this.options.provider.name;
  }

  /** Whether `request` may be answered from the cache. */
  isCacheable(request: CompletionRequest): boolean {
    return request.params.temperature === 0 || this.options.cacheModels.has(request.model);
  }

  /** The cache key of `request` for `audience` (hex SHA-256). */
  keyOf(request: CompletionRequest, audience: CompletionAudience): string {
    return completionKey(this.options.provider.name, request, scopeKey(this.options.scope, audience));
  }

  async complete(call: CompletionCall): Promise<CompletionAnswer> {
    const request = call.request;
    const controls = call.controls ?? {};
    const model = request.model;
    if (!this.isCacheable(request)) {
      let result: CompletionResult;
      try {
        result = await this.callProvider(request, call.onToken);
      } catch (error) {
        this.ledger.record(this.options.namespace, model, 'error');
        throw error;
      }
      this.ledger.record(this.options.namespace, model, 'bypass');
      return { ...result, cached: false, stale: false, outcome: 'bypass' };
    }
    const key = this.keyOf(request, call.audience);
    const ttlMs = this.ttlOf(controls);
    const store = controls.noStore !== true;
    const setOptions = { ttl: ttlMs, grace: this.options.graceMs, jitter: 0 };
    if (controls.noCache) return this.fresh(call, key, ttlMs, store);

    let ran = false;
    let failure: { error: unknown } | undefined;
    let passedOn = false;
    const onToken = call.onToken && ((text: string) => ((passedOn = true), call.onToken?.(text)));
    const loader = async (): Promise<StoredCompletion> => {
      ran = true;
      try {
        return stored(await this.callProvider(request, onToken), ttlMs);
      } catch (error) {
        failure = { error };
        throw error;
      }
    };
    let value: StoredCompletion;
    try {
      // A noStore request runs on its own: in the single flight (or holding the lock across
      // instances), the requests that joined it would wait for an answer that is then stored for
      // none of them, and another instance's would call the provider again after its whole wait.
      value = store
        ? await this.cache.getOrSet(key, loader, {
            ...setOptions,
            lockAcrossInstances: true,
            lockWaitMs: this.options.lockWaitMs,
          })
        : ((await this.cache.get<StoredCompletion>(key)) ?? (await loader()));
    } catch (error) {
      this.ledger.record(this.options.namespace, model, 'error');
      throw error;
    }
    if (controls.maxAge !== undefined && Date.now() - value.createdAt > controls.maxAge * 1000) {
      if (!ran) return this.fresh(call, key, ttlMs, store);
      // The provider failed and the cache stood in with an answer older than the caller accepts.
      if (failure) {
        this.ledger.record(this.options.namespace, model, 'error');
        throw failure.error;
      }
    }
    const stale = failure !== undefined || value.freshUntil < Date.now() - FRESHNESS_SLACK_MS;
    const outcome: CompletionOutcome = stale ? 'stale' : ran ? 'miss' : 'hit';
    this.ledger.record(this.options.namespace, model, outcome, value);
    // A cached answer is replayed as the provider's would have streamed; after
    // a stream that failed part-way, the final message (not a replay) tells the whole answer.
    if (call.onToken && !passedOn) for (const chunk of replayChunks(value.content)) call.onToken(chunk);
    return { ...resultOf(value), cached: !ran || stale, stale, outcome };
  }

  /** A provider answer whatever the cache holds, stored in its place unless `noStore`. */
  private async fresh(call: CompletionCall, key: string, ttlMs: number, store: boolean): Promise<CompletionAnswer> {
    const model = call.request.model;
    let result: CompletionResult;
    try {
      result = await this.callProvider(call.request, call.onToken);
    } catch (error) {
      this.ledger.record(this.options.namespace, model, 'error');
      throw error;
    }
    if (store) await this.cache.set(key, stored(result, ttlMs), { ttl: ttlMs, grace: this.options.graceMs, jitter: 0 });
    this.ledger.record(this.options.namespace, model, 'miss');
    return { ...result, cached: false, stale: false, outcome: 'miss' };
  }

  private ttlOf(controls: CompletionControls): number {
    if (controls.ttl === undefined) return this.options.ttlMs;
    return Math.max(1000, Math.min(this.options.ttlMs, Math.round(controls.ttl * 1000)));
  }

  private async callProvider(request: CompletionRequest, onToken?: TokenSink): Promise<CompletionResult> {
    const started = performance.now();
    let ok = false;
    try {
      const result = await this.options.provider.complete(request, onToken);
      ok = true;
      // Whatever the provider: what is served and cached is what Postgres will store.
      return { ...result, content: storableText(result.content) };
    } finally {
      this.ledger.providerCall(this.options.namespace, request.model, (performance.now() - started) / 1000, ok);
    }
  }
}

function stored(result: CompletionResult, ttlMs: number): StoredCompletion {
  const createdAt = Date.now();
  return { ...resultOf(result), createdAt, freshUntil: createdAt + ttlMs };
}

function resultOf(value: CompletionResult): CompletionResult {
  return {
    content: value.content,
    promptTokens: value.promptTokens,
    completionTokens: value.completionTokens,
    model: value.model,
    ...(value.estimated && { estimated: true }),
  };
}

/** The part of the key that says who may share the answer. */
export function scopeKey(scope: AiCacheScope, audience: CompletionAudience): string {
  if (scope === 'global') return 'global';
  return scope === 'user' ? `user:${audience.userId}` : `boardroom:${audience.boardroomId}`;
}

/**
 * SHA-256 over everything that shapes the answer: provider, model, scope,
 * every message (role and content, in order) and the parameters. JSON keeps
 * the fields apart, so no two different requests share a key by concatenation.
 */
export function completionKey(provider: string, request: CompletionRequest, scope: string): string {
  const messages = request.messages.map((m) => [m.role, m.content]);
  const params = [request.params.temperature, request.params.maxTokens];
  return createHash('sha256')
    .update(JSON.stringify([provider, request.model, scope, messages, params]))
    .digest('hex');
}
