import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { redactUrl } from './redact-url';

/**
 * One JSON line per finished request, written from Fastify's `onResponse`
 * hook: request id, method, URL (credentials in the query redacted), route
 * pattern, caller, status and time. Nothing per request but the line itself:
 * no child logger, no middleware, no header copying (headers are not logged,
 * so there is nothing to redact in them). 5xx lines are `error`, the rest
 * `info`.
 */
export function logRequests(fastify: FastifyInstance, logger: Logger): void {
  if (!logger.isLevelEnabled('info')) return;
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    // Flat: pino serializes nested objects field by field, each level costing more.
    const line = {
      reqId: request.id,
      method: request.method,
      url: redactUrl(request.url),
      route: request.routeOptions.url,
      remoteAddress: request.ip,
      user: (request as { user?: { id?: string } }).user?.id,
      statusCode: status,
      responseTime: Math.round(reply.elapsedTime * 100) / 100,
    };
    if (status >= 500) logger.error(line, 'request failed');
    else logger.info(line, 'request completed');
    done();
  });
}
