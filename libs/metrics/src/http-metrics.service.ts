import { Injectable } from '@nestjs/common';
import { HttpDurationHistogram } from './http-duration-histogram';
import { UNMATCHED_ROUTE } from './metrics.constants';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The slice of a Fastify instance the instrumentation needs. */
export interface HookableServer {
  addHook(
    name: 'onResponse',
    hook: (
      request: { method: string; routeOptions: { url?: string } },
      reply: { statusCode: number; elapsedTime: number },
      done: () => void,
    ) => void,
  ): unknown;
}

/**
 * Records `http_request_duration_seconds{method,route,status_code}`.
 * `route` is the route pattern (`/api/v1/users/:id`), never the raw URL, so
 * the number of series is bounded by the number of routes; every unmatched
 * URL shares one label value. Measured in a Fastify `onResponse` hook so 404s,
 * body-parser errors and guard rejections are counted too.
 */
@Injectable()
export class HttpMetricsService {
  constructor(private readonly histogram: HttpDurationHistogram) {}

  /** Installs the hook on the HTTP server; call once, before the app listens. */
  instrument(server: HookableServer): void {
    server.addHook('onResponse', (request, reply, done) => {
      this.observe(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }

  /** Records one request; `route` undefined means no route matched. */
  observe(method: string, route: string | undefined, statusCode: number, seconds: number): void {
    this.histogram.observe(KNOWN_METHODS.has(method) ? method : 'OTHER', route ?? UNMATCHED_ROUTE, statusCode, seconds);
  }
}
