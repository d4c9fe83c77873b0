import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { hostname } from 'node:os';
import { parseRequestDirectives } from '@app/http-cache';
import type { LineSink } from './batched-destination';
import { redactUrl } from './redact-url';

/** pino's numeric levels of the two levels a request line can have. */
const INFO = 30;
const ERROR = 50;

/**
 * One JSON line per finished request, written from Fastify's `onResponse`
 * hook: request id, method, URL (credentials in the query redacted), route
 * pattern, caller, status and time, in pino's line format (`level`, `time`,
 * `pid`, `hostname`, `msg`), 5xx as `error` and the rest as `info`.
 *
 * The line is put together here and handed to the log destination, not
 * passed through `logger.info(object)`: every field's type is known, so
 * only the free-text ones (URL, route, address) need `JSON.stringify`, and
 * pino's generic serializer was the largest part of the line's cost. Nothing
 * else happens per request: no child logger, no middleware, no header
 * copying (headers are not logged, so there is nothing to redact in them).
 */
export function logRequests(fastify: FastifyInstance, logger: Logger, destination: LineSink): void {
  const info = logger.isLevelEnabled('info');
  const error = logger.isLevelEnabled('error');
  if (!info && !error) return;
  const base = `"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`;
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    // A 504 the client asked for (`only-if-cached` and nothing stored, RFC 9111) is no failure of the
    // server: logged as an error, any client could fill the error log with it.
    const failed =
      status >= 500 && !(status === 504 && parseRequestDirectives(request.headers['cache-control']).onlyIfCached);
    if (failed ? error : info) {
      const route = request.routeOptions.url;
      // The request id matches [A-Za-z0-9._:-] or is a UUID, the method is one Fastify
      // routes, the user id is a verified UUID: none needs escaping.
      const user = (request as { user?: { id?: string } }).user?.id;
      destination.write(
        `{"level":${failed ? ERROR : INFO},"time":${Date.now()},${base},"reqId":"${request.id}",` +
          `"method":"${request.method}","url":${JSON.stringify(redactUrl(request.url))},` +
          (route === undefined ? '' : `"route":${JSON.stringify(route)},`) +
          `"remoteAddress":${JSON.stringify(request.ip)},` +
          (user === undefined ? '' : `"user":"${user}",`) +
          `"statusCode":${status},"responseTime":${Math.round(reply.elapsedTime * 100) / 100},` +
          `"msg":"${failed ? 'request failed' : 'request completed'}"}\n`,
      );
    }
    done();
  });
}
