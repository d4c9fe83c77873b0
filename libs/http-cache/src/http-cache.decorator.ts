import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { HTTP_CACHE_POLICY, NO_HTTP_CACHE } from './http-cache.constants';
import { checkNumber, HttpCacheArgumentError } from './http-cache.errors';
import { HttpCacheInterceptor } from './http-cache.interceptor';

/**
 * Who may receive a stored response. `user` (the default): the key holds the
 * caller's identity, so a response is only ever served to the caller it was
 * built for. `shared`: one entry for every caller who passes the route's
 * guards; declare it only when the response cannot depend on who asks (no
 * per-caller fields, no access check inside the handler).
 */
export type HttpCacheScope = 'user' | 'shared';

/** Options of `@HttpCache()`. Durations in ms, as everywhere in the cache. */
export interface HttpCacheOptions {
  /** Lifetime of a stored response (capped by the shortest TTL of the reads it was built from). @default the module's `ttl` */
  ttl?: number;
  /** Stale-if-error window after expiry: served with `X-Cache: STALE` when the handler fails with a 5xx. @default the module's `grace` */
  grace?: number;
  /** @default 'user' */
  scope?: HttpCacheScope;
  /** Request headers whose values select the entry (and are listed in `Vary`), e.g. `['accept-language']`. */
  vary?: readonly string[];
  /**
   * The query parameters that select the entry; others are left out of the
   * key (they cannot change the response, and random ones must not fill the
   * cache). Declare it on every route that reads a known set, `[]` on one
   * that reads none. @default every parameter
   */
  query?: readonly string[];
  /**
   * Tags added to the ones collected from the handler's cached reads (never
   * instead of them), e.g. for a response that also depends on something
   * read around the cache.
   */
  tags?: readonly string[] | ((request: FastifyRequest) => readonly string[]);
  /**
   * Lets clients reuse the response for this many seconds without asking
   * (`Cache-Control: max-age`). Off by default: a client could then keep a
   * response a later write changed. @default revalidate every time (`no-cache`)
   */
  maxAge?: number;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

/** Checks a declaration once, when the decorator is applied. */
export function validateHttpCacheOptions(options: HttpCacheOptions): void {
  checkNumber('@HttpCache', 'ttl', options.ttl, 1);
  checkNumber('@HttpCache', 'grace', options.grace, 0);
  checkNumber('@HttpCache', 'maxAge', options.maxAge, 0);
  if (options.scope !== undefined && options.scope !== 'user' && options.scope !== 'shared')
    throw new HttpCacheArgumentError(`@HttpCache scope must be 'user' or 'shared', got ${String(options.scope)}`);
  for (const name of options.vary ?? []) {
    if (!HEADER_NAME.test(name)) throw new HttpCacheArgumentError(`@HttpCache vary: not a header name: ${name}`);
    if (name.toLowerCase() === 'authorization' || name.toLowerCase() === 'cookie')
      throw new HttpCacheArgumentError(`@HttpCache vary: ${name} is the caller's identity; use scope: 'user'`);
  }
  if (options.query && options.query.some((q) => typeof q !== 'string' || q === ''))
    throw new HttpCacheArgumentError('@HttpCache query must list non-empty parameter names');
  if (Array.isArray(options.tags) && options.tags.some((t) => typeof t !== 'string' || t === ''))
    throw new HttpCacheArgumentError('@HttpCache tags must be non-empty strings');
}

/**
 * Caches a GET (and HEAD) route's responses: `@HttpCache({ scope: 'shared' })`.
 * On a controller, applies to each of its GET routes. Puts
 * `HttpCacheInterceptor` on the route itself (needs `HttpCacheModule`), so
 * routes without it pay nothing for response caching; interceptors run after
 * guards, so a stored response is only reached by a request that passed them.
 */
export function HttpCache(options: HttpCacheOptions = {}): MethodDecorator & ClassDecorator {
  validateHttpCacheOptions(options);
  return applyDecorators(SetMetadata(HTTP_CACHE_POLICY, options), UseInterceptors(HttpCacheInterceptor));
}

/** Turns response caching off for a route of a controller that has `@HttpCache()`. */
export function NoHttpCache(): MethodDecorator & ClassDecorator {
  return SetMetadata(NO_HTTP_CACHE, true);
}
