import type { FastifyRequest } from 'fastify';

/** What selects a stored response, besides the request itself. */
export interface KeyPolicy {
  /** The caller's identity, or null for a `shared` route. */
  identity: ((request: FastifyRequest) => string | undefined) | null;
  /** Lower-cased request header names. */
  vary: readonly string[];
  /** The query parameters kept in the key; undefined: all of them. */
  query?: ReadonlySet<string>;
  /** A path parameter's value as the route reads it (see `HttpCacheModuleOptions.canonicalParam`). */
  param?: (name: string, value: string) => string;
}

const PLAIN = /^[A-Za-z0-9-]*$/;

/**
 * A key part made of `[A-Za-z0-9_-]` only: every other UTF-16 unit becomes
 * `_` and four hex digits (so `_` itself is always an escape, and the
 * encoding is injective). UUIDs and plain words pass unchanged and cheaply.
 * The whole key then stays within the characters the cache keeps as they
 * are, so a hit costs no hash (the cache hashes a key over 200 characters).
 */
export function keyPart(value: string): string {
  if (PLAIN.test(value)) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const plain = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45;
    out += plain ? value[i] : `_${c.toString(16).padStart(4, '0')}`;
  }
  return out;
}

/** Escaped route patterns: there are as many as routes. */
const routes = new Map<string, string>();

/**
 * The entry key of a request: the method class (HEAD shares GET's entry),
 * the route pattern, its parameters (by name), the query with keys sorted
 * (values of one key keep their order), the declared `vary` headers and,
 * for `user` routes, the caller's identity. Parts are escaped (`keyPart`)
 * and joined by `:` and `.`, which no escaped part contains: no value can
 * forge another part.
 */
export function requestKey(request: FastifyRequest, policy: KeyPolicy): string {
  const pattern = request.routeOptions.url ?? request.url.split('?', 1)[0];
  let route = routes.get(pattern);
  if (route === undefined) routes.set(pattern, (route = keyPart(pattern)));
  let key = `GET:${route}`;
  const params = request.params as Record<string, unknown> | undefined;
  if (params) {
    const names = Object.keys(params);
    if (names.length > 1) names.sort();
    for (const name of names) {
      const value = String(params[name]);
      key += `:${keyPart(name)}.${keyPart(policy.param ? policy.param(name, value) : value)}`;
    }
  }
  const query = canonicalQuery(request.url, policy.query);
  if (query) key += `:q.${keyPart(query)}`;
  for (const name of policy.vary) {
    const value = request.headers[name];
    key += `:v.${value === undefined ? '' : keyPart(Array.isArray(value) ? value.join(',') : value)}`;
  }
  if (policy.identity) key += `:by.${keyPart(policy.identity(request) ?? '')}`;
  return key;
}

/**
 * The query string of `url` with its keys sorted (stable: repeated keys keep
 * their order), re-encoded; only the keys in `keep`, when given.
 */
export function canonicalQuery(url: string, keep?: ReadonlySet<string>): string {
  const at = url.indexOf('?');
  if (at < 0 || at === url.length - 1 || keep?.size === 0) return '';
  const params = new URLSearchParams(url.slice(at + 1));
  if (keep) for (const name of [...params.keys()]) if (!keep.has(name)) params.delete(name);
  params.sort();
  return params.toString();
}
