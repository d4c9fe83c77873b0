/**
 * Whether `exception` means the client went away before its request was
 * received (a connection reset mid-body, or closed by the request timeout),
 * as opposed to a dependency failing: Fastify's body reader passes the request
 * stream's `ECONNRESET` on, marked with a 4xx `statusCode`, and the request
 * itself was aborted. Such an error is the client's doing and is nobody's to
 * fix, so it is neither a 503 ("database unavailable", which the same code
 * means from the `pg` driver) nor a 500.
 */
export function isClientAbort(exception: unknown, request: { readonly raw?: unknown } | undefined): boolean {
  if (typeof exception !== 'object' || exception === null) return false;
  const { code, statusCode } = exception as { code?: unknown; statusCode?: unknown };
  if (code !== 'ECONNRESET' || typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return false;
  const raw = request?.raw as { readableAborted?: unknown; aborted?: unknown } | undefined;
  return raw?.readableAborted === true || raw?.aborted === true;
}
