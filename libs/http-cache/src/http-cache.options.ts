import { HttpException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DEFAULT_HTTP_NAMESPACE, DEFAULT_HTTP_TTL_MS, DEFAULT_MAX_BODY_BYTES } from './http-cache.constants';
import { checkNumber, HttpCacheArgumentError } from './http-cache.errors';

/** Options of `HttpCacheModule.forRoot` / `forRootAsync`. Durations in ms. */
export interface HttpCacheModuleOptions {
  /** Lifetime of a stored response unless the route says otherwise. @default 600000 */
  ttl?: number;
  /** Stale-if-error window after expiry, unless the route says otherwise. @default 0 */
  grace?: number;
  /** Namespace of the entries in the cache. @default 'http' */
  namespace?: string;
  /** Largest body stored (bytes). @default 524288 */
  maxBodyBytes?: number;
  /** Random reduction of each response's TTL (0..1), so entries stored together do not expire together. @default 0.1 */
  ttlJitter?: number;
  /**
   * The caller's identity in the key of `user` routes. @default the
   * authenticated user (`request.user`) as `id` and `role`; anonymous callers share `-`
   */
  identity?: (request: FastifyRequest) => string | undefined;
  /**
   * A path parameter's value in the key, as the route's pipes will read it:
   * two spellings the route takes for one value (a UUID in upper and lower
   * case, say) then share one entry instead of storing one each. It must
   * map only spellings the route treats as equal. @default the value as sent
   */
  canonicalParam?: (name: string, value: string) => string;
  /**
   * Whether a handler's failure may be answered with a stale response
   * (inside grace). A client error (4xx) is the answer, not a failure: it is
   * sent as it is. @default true for everything but an `HttpException` under 500
   */
  staleOn?: (error: unknown) => boolean;
}

export interface ResolvedHttpCacheOptions {
  ttlMs: number;
  graceMs: number;
  namespace: string;
  maxBodyBytes: number;
  ttlJitter: number;
  identity: (request: FastifyRequest) => string | undefined;
  canonicalParam?: (name: string, value: string) => string;
  staleOn: (error: unknown) => boolean;
}

/** A failure is anything but an `HttpException` with a status under 500. */
export function serverFailure(error: unknown): boolean {
  return !(error instanceof HttpException && error.getStatus() < 500);
}

/** `request.user` as the auth library sets it: id and role (a role change gives a new key). */
export function userIdentity(request: FastifyRequest): string | undefined {
  const user = (request as { user?: { id?: unknown; role?: unknown } }).user;
  if (!user || typeof user.id !== 'string') return undefined;
  return typeof user.role === 'string' ? `${user.id}:${user.role}` : user.id;
}

export function resolveHttpCacheOptions(options: HttpCacheModuleOptions = {}): ResolvedHttpCacheOptions {
  checkNumber('HttpCacheModule', 'ttl', options.ttl, 1);
  checkNumber('HttpCacheModule', 'grace', options.grace, 0);
  checkNumber('HttpCacheModule', 'maxBodyBytes', options.maxBodyBytes, 1);
  if (options.ttlJitter !== undefined && !(options.ttlJitter >= 0 && options.ttlJitter <= 1))
    throw new HttpCacheArgumentError(`HttpCacheModule ttlJitter must be between 0 and 1, got ${options.ttlJitter}`);
  return {
    ttlMs: options.ttl ?? DEFAULT_HTTP_TTL_MS,
    graceMs: options.grace ?? 0,
    namespace: options.namespace ?? DEFAULT_HTTP_NAMESPACE,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    ttlJitter: options.ttlJitter ?? 0.1,
    identity: options.identity ?? userIdentity,
    canonicalParam: options.canonicalParam,
    staleOn: options.staleOn ?? serverFailure,
  };
}
