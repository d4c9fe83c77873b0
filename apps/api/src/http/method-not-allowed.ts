/** The methods a route can have (Fastify adds HEAD to every GET route). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** The slice of a Fastify instance the lookup needs. */
export interface RouteFinder {
  findRoute(route: { method: string; url: string }): unknown;
}

/** A request URL without its query string (which may carry a token). */
export const pathOf = (url: string): string => {
  const at = url.indexOf('?');
  return at < 0 ? url : url.slice(0, at);
};

/**
 * The methods routed at `path`, when `method`
 * is not one of them: the `Allow` of a 405 (RFC 9110, 15.5.6). Empty when no
 * route has the path, which is a 404. Called only for requests no route
 * matched, so a routed request pays nothing for it.
 */
export function allowedMethods(router: RouteFinder, method: string, path: string): string[] {
  return METHODS.filter((candidate) => candidate !== method && router.findRoute({ method: candidate, url: path }));
}
