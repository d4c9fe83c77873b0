import type { FastifyRequest } from 'fastify';

/** What selects a stored response, besides the request itself. */
export interface KeyPolicy {
  /** The caller's identity, or null for a `shared` route. */
  identity: ((request: FastifyRequest) => string | undefined) | null;
  /** Lower-cased request header names. */
  vary: readonly string[];
}

/**
 * The entry key of a request: the method class (HEAD shares GET's entry),
 * the route pattern, its parameters, the query with keys sorted (values of
 * one key keep their order), the declared `vary` headers and, for `user`
 * routes, the caller's identity. Every part is percent-encoded, so no value
 * can forge a separator; the cache hashes the whole key (it holds `/`).
 */
export function requestKey(request: FastifyRequest, policy: KeyPolicy): string {
  const route = request.routeOptions.url ?? request.url.split('?', 1)[0];
  let key = `GET ${route}`;
  const params = request.params as Record<string, string> | undefined;
  if (params) {
    const names = Object.keys(params);
    if (names.length > 1) names.sort();
    for (const name of names) key += `|${name}=${encodeURIComponent(String(params[name]))}`;
  }
  key += `?${canonicalQuery(request.url)}`;
  for (const name of policy.vary) {
    const value = request.headers[name];
    key += `|${name}:${value === undefined ? '' : encodeURIComponent(Array.isArray(value) ? value.join(',') : value)}`;
  }
  if (policy.identity) key += `|by:${encodeURIComponent(policy.identity(request) ?? '-')}`;
  return key;
}

/** The query string of `url` with its keys sorted (stable: repeated keys keep their order), re-encoded. */
export function canonicalQuery(url: string): string {
  const at = url.indexOf('?');
  if (at < 0 || at === url.length - 1) return '';
  const params = new URLSearchParams(url.slice(at + 1));
  params.sort();
  return params.toString();
}
