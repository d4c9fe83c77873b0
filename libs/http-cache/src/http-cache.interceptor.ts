import {
  GatewayTimeoutException,
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { CacheDependencies, CacheService, type CacheDependencySet, type NamespacedCache } from '@app/cache';
import { ifNoneMatch } from './etag';
import { HttpCacheStats } from './http-cache-stats';
import {
  HTTP_CACHE_POLICY,
  HTTP_CACHE_RESOLVED_OPTIONS,
  NO_HTTP_CACHE,
  X_CACHE,
  type CacheOutcome,
} from './http-cache.constants';
import type { HttpCacheOptions } from './http-cache.decorator';
import type { ResolvedHttpCacheOptions } from './http-cache.options';
import { parseRequestDirectives } from './request-directives';
import { requestKey, type KeyPolicy } from './request-key';
import { toStoredResponse, type StoredResponse } from './stored-response';
import { TurnBatch } from './turn-batch';

/** A route's declaration, resolved once. */
interface RoutePolicy {
  name: string;
  ttlMs: number;
  graceMs: number;
  key: KeyPolicy;
  tags: (request: FastifyRequest) => readonly string[];
  declaresTags: boolean;
  cacheControl: string;
  vary: string;
  warnedUntracked: boolean;
}

/** Responses served from the cache, by every instance of the interceptor, are written together at the end of the turn. */
const servedTogether = new TurnBatch();

/** Marks a request the interceptor is already handling (registered globally and by `@HttpCache()`, or on class and method). */
const HANDLED = Symbol('http-cache:handled');

/** The value of a load that must not be stored, nor shared with the requests waiting on it. */
const REFUSED: unique symbol = Symbol('http-cache:refused');
type Loaded = StoredResponse | typeof REFUSED;

/** What this request's own handler run produced, when it ran as the loader. */
interface OwnRun {
  stored?: StoredResponse;
  /** A result that could not be stored (sent as the handler returned it). */
  unstored?: { value: unknown };
  /** A client error: the answer, sent as it is. */
  answer?: { error: unknown };
  /** The handler failed (a stale response may be served instead). */
  failed?: boolean;
  tags?: readonly string[];
}

/**
 * Response caching for routes declared with `@HttpCache()`, which puts this
 * interceptor on them (registering it globally as well does no harm: a
 * request is handled once). Interceptors run after guards, so a stored
 * response is only reached by a request that passed authentication and the
 * route's role checks.
 *
 * A miss runs the handler as the loader of the cache core's `getOrSet`
 * (single flight per instance, the late-write guard, grace, the bus) inside
 * `CacheDependencies.track`: the stored response carries the tags of every
 * cached read the handler made, so a write that invalidates one of those
 * reads invalidates the response on every instance. The entry holds the
 * bytes, status, content type, the headers the handler set and a strong
 * ETag; a hit sends them without running pipes, handler or serializer.
 */
@Injectable()
export class HttpCacheInterceptor implements NestInterceptor {
  private readonly logger = new Logger('HttpCache');
  private readonly policies = new WeakMap<object, Map<object, RoutePolicy | null>>();
  private readonly cache: NamespacedCache;

  constructor(
    private readonly reflector: Reflector,
    cacheService: CacheService,
    @Inject(HTTP_CACHE_RESOLVED_OPTIONS) private readonly options: ResolvedHttpCacheOptions,
    readonly stats: HttpCacheStats,
  ) {
    this.cache = cacheService.namespace(options.namespace);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const policy = this.policyOf(context);
    if (!policy) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { [HANDLED]?: true }>();
    if ((request.method !== 'GET' && request.method !== 'HEAD') || request[HANDLED]) return next.handle();
    request[HANDLED] = true;
    return from(this.respond(policy, request, http.getResponse<FastifyReply>(), next));
  }

  private async respond(
    policy: RoutePolicy,
    request: FastifyRequest,
    reply: FastifyReply,
    next: CallHandler,
  ): Promise<unknown> {
    const directives = parseRequestDirectives(request.headers['cache-control'], request.headers.pragma);
    if (directives.onlyIfCached)
      return this.onlyIfCached(policy, requestKey(request, policy.key), request, reply, directives.maxAge);
    if (directives.noStore || directives.maxAge === 0) return this.bypass(policy, request, reply, next);
    const key = requestKey(request, policy.key);
    const own: OwnRun = {};
    let entry: Loaded;
    try {
      entry = await this.cache.getOrSet<Loaded>(key, () => this.load(policy, request, reply, next, own), {
        ttl: (e) => (e as StoredResponse).expiresAt - (e as StoredResponse).storedAt,
        jitter: 0,
        grace: policy.graceMs,
        tags: () => own.tags ?? [],
        cacheable: (e) => e !== REFUSED,
      });
    } catch (error) {
      // The handler's own failure, with no stale response to serve in its place.
      if (own.failed || own.answer) throw error;
      if (own.stored) return this.send(policy, request, reply, own.stored, 'MISS');
      this.logger.warn(`${policy.name}: response cache bypassed: ${String(error)}`);
      return this.bypass(policy, request, reply, next);
    }
    if (entry === REFUSED) {
      if (own.answer) throw own.answer.error;
      if (own.unstored) return this.mark(reply, policy, 'BYPASS', own.unstored.value);
      // Another request's response, which could not be shared: this one gets its own.
      return this.bypass(policy, request, reply, next);
    }
    const outcome: CacheOutcome = entry === own.stored ? 'MISS' : Date.now() >= entry.expiresAt ? 'STALE' : 'HIT';
    if (outcome === 'HIT' && directives.maxAge !== undefined && ageOf(entry) > directives.maxAge)
      return this.bypass(policy, request, reply, next);
    if (outcome === 'MISS') return this.send(policy, request, reply, entry, outcome);
    return servedTogether.run(() => this.send(policy, request, reply, entry, outcome));
  }

  /** The loader: runs the handler, tracking its cached reads, and makes the response storable (or refuses it). */
  private async load(
    policy: RoutePolicy,
    request: FastifyRequest,
    reply: FastifyReply,
    next: CallHandler,
    own: OwnRun,
  ): Promise<Loaded> {
    const before = new Set(Object.keys(reply.getHeaders()));
    let run: { value: unknown; dependencies: CacheDependencySet };
    try {
      run = await CacheDependencies.track(() => lastValueFrom(next.handle()));
    } catch (error) {
      if (!this.options.staleOn(error)) {
        own.answer = { error };
        return REFUSED;
      }
      own.failed = true;
      throw error;
    }
    const { value, dependencies } = run;
    const ttlMs = Math.max(1, Math.min(this.jittered(policy.ttlMs), dependencies.minTtlMs));
    const stored = toStoredResponse(value, reply, before, { maxBytes: this.options.maxBodyBytes, ttlMs });
    if (typeof stored === 'string') {
      this.stats.unstored[stored]++;
      own.unstored = { value };
      return REFUSED;
    }
    own.tags = [...dependencies.tags, ...policy.tags(request)];
    if (dependencies.reads === 0 && !policy.declaresTags) this.warnUntracked(policy, ttlMs);
    own.stored = stored;
    return stored;
  }

  /** Writes a stored response: 304 when `If-None-Match` matches its ETag, its bytes otherwise. */
  private send(
    policy: RoutePolicy,
    request: FastifyRequest,
    reply: FastifyReply,
    entry: StoredResponse,
    outcome: CacheOutcome,
  ): Buffer | undefined {
    reply.status(entry.status);
    for (const [name, value] of entry.headers) reply.header(name, value);
    reply.header('etag', entry.etag);
    reply.header('age', String(ageOf(entry)));
    this.mark(reply, policy, outcome, undefined);
    if (ifNoneMatch(request.headers['if-none-match'], entry.etag)) {
      this.stats.notModified++;
      reply.status(304);
      return undefined;
    }
    reply.header('content-type', entry.contentType);
    if (outcome === 'HIT' || outcome === 'STALE') this.stats.servedBytes += entry.body.length;
    return entry.body;
  }

  /** Sets `Cache-Control` (unless the handler did), `Vary` and `X-Cache`; counts the outcome. */
  private mark<T>(reply: FastifyReply, policy: RoutePolicy, outcome: CacheOutcome, value: T): T {
    this.stats.outcomes[outcome]++;
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', policy.cacheControl);
    if (policy.vary) reply.header('vary', mergeVary(reply.getHeader('vary'), policy.vary));
    reply.header(X_CACHE, outcome);
    return value;
  }

  /**
   * The handler's response, neither looked up nor stored, with its ETag and
   * `If-None-Match` answered as on a hit: a browser's reload (`max-age=0`
   * and the ETag it holds) gets a 304 when nothing changed. A response that
   * could not be stored is sent as the handler returned it.
   */
  private async bypass(
    policy: RoutePolicy,
    request: FastifyRequest,
    reply: FastifyReply,
    next: CallHandler,
  ): Promise<unknown> {
    const before = new Set(Object.keys(reply.getHeaders()));
    const value: unknown = await lastValueFrom(next.handle());
    const fresh = toStoredResponse(value, reply, before, { maxBytes: this.options.maxBodyBytes, ttlMs: 0 });
    if (typeof fresh === 'string') return this.mark(reply, policy, 'BYPASS', value);
    return this.send(policy, request, reply, fresh, 'BYPASS');
  }

  /**
   * `only-if-cached`: a fresh stored response no older than the request's
   * `max-age`, or 504 (RFC 9111 §5.2.1.7); the handler never runs.
   */
  private async onlyIfCached(
    policy: RoutePolicy,
    key: string,
    request: FastifyRequest,
    reply: FastifyReply,
    maxAge: number | undefined,
  ): Promise<Buffer | undefined> {
    const entry = maxAge === 0 ? undefined : await this.cache.get<StoredResponse>(key).catch(() => undefined);
    if (!entry || (maxAge !== undefined && ageOf(entry) > maxAge))
      throw new GatewayTimeoutException('Not in the cache (only-if-cached)');
    return this.send(policy, request, reply, entry, 'HIT');
  }

  private jittered(ttlMs: number): number {
    return Math.round(ttlMs * (1 - Math.random() * this.options.ttlJitter));
  }

  private warnUntracked(policy: RoutePolicy, ttlMs: number): void {
    if (policy.warnedUntracked) return;
    policy.warnedUntracked = true;
    this.logger.warn(
      `${policy.name}: response stored with no dependency (no cached read, no tags): only its TTL (${ttlMs} ms) ends it`,
    );
  }

  private policyOf(context: ExecutionContext): RoutePolicy | null {
    const controller = context.getClass();
    const handler = context.getHandler();
    let byHandler = this.policies.get(controller);
    if (!byHandler) this.policies.set(controller, (byHandler = new Map<object, RoutePolicy | null>()));
    let policy = byHandler.get(handler);
    if (policy === undefined) byHandler.set(handler, (policy = this.resolve(controller, handler)));
    return policy;
  }

  /** The handler's declaration wins over the controller's; `@NoHttpCache()` on the handler wins over both. */
  private resolve(controller: object, handler: object): RoutePolicy | null {
    const read = <T>(key: string, target: object) => this.reflector.get<T | undefined>(key, target as never);
    const declared =
      read<true>(NO_HTTP_CACHE, handler) === true
        ? undefined
        : (read<HttpCacheOptions>(HTTP_CACHE_POLICY, handler) ??
          (read<true>(NO_HTTP_CACHE, controller) === true
            ? undefined
            : read<HttpCacheOptions>(HTTP_CACHE_POLICY, controller)));
    if (!declared) return null;
    const scope = declared.scope ?? 'user';
    const vary = (declared.vary ?? []).map((h) => h.toLowerCase());
    const tags = declared.tags;
    const maxAge = declared.maxAge;
    return {
      name: `${(controller as { name?: string }).name ?? 'controller'}.${(handler as { name?: string }).name ?? 'handler'}`,
      ttlMs: declared.ttl ?? this.options.ttlMs,
      graceMs: declared.grace ?? this.options.graceMs,
      key: {
        identity: scope === 'user' ? this.options.identity : null,
        vary,
        query: declared.query && new Set(declared.query),
        param: this.options.canonicalParam,
      },
      tags: typeof tags === 'function' ? (r) => tags(r).filter((t) => t !== '') : () => tags ?? [],
      declaresTags: tags !== undefined,
      cacheControl:
        scope === 'user'
          ? maxAge
            ? `private, max-age=${maxAge}`
            : 'private, no-cache'
          : maxAge
            ? `max-age=${maxAge}`
            : 'no-cache',
      vary: [...(scope === 'user' ? ['Authorization'] : []), ...(declared.vary ?? [])].join(', '),
      warnedUntracked: false,
    };
  }
}

/** Seconds since the response was built (the `Age` header). */
function ageOf(entry: StoredResponse): number {
  return Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000));
}

/** `Vary` with ours appended to what another part of the app set (e.g. CORS's `Origin`). */
function mergeVary(existing: unknown, ours: string): string {
  if (typeof existing !== 'string' || existing === '') return ours;
  const have = existing;
  const names = new Set(have.split(',').map((h) => h.trim().toLowerCase()));
  const added = ours.split(', ').filter((h) => !names.has(h.toLowerCase()));
  return added.length ? `${have}, ${added.join(', ')}` : have;
}
