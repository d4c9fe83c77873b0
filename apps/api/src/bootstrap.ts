import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { HttpMetricsService } from '@app/metrics';
import { AppModule, type AppModuleImport } from './app.module';
import type { AppConfig } from './config/app-config';
import type { AppConfigOptions } from './config/app-config.module';
import { APP_CONFIG } from './config/app-config.constants';
import { preflightConfig } from './config/preflight';
import type { ErrorBody } from './http/all-exceptions.filter';
import { applyHttpTimeouts } from './http/http-timeouts';
import { registerJsonBodyParser } from './http/json-body-parser';
import { buildDocument } from './http/openapi';
import { clientErrorHandler } from './http/client-error';
import { securityHeaderValues, usePageSecurityHeaders } from './http/security-headers';
import { REQUEST_ID_HEADER, requestId } from './http/request-id';
import { APP_LOG_DESTINATION, APP_PINO } from './logging/logging.module';
import { PinoLoggerService } from './logging/pino-logger.service';
import { logRequests } from './logging/request-log';

/** Routes served outside `/api/v1`: probes, Prometheus, docs and the dashboard. */
const UNPREFIXED = ['health/live', 'health/ready', 'health/redis', 'metrics', 'admin', 'admin/assets/:file'];

/** Body limit before the config is read; the configured limit applies per route below. */
const MAX_BODY_LIMIT = 100 * 1024 * 1024;

/**
 * Errors Fastify raises while routing, before any route (and so before Nest's
 * exception filter) is involved. Left alone, Fastify answers them with its own
 * body, which adds a `code` and echoes the URL.
 */
const FRAMEWORK_ERRORS: Record<string, { status: number; message: string }> = {
  FST_ERR_BAD_URL: { status: 400, message: 'Malformed URL' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, message: 'A path parameter is too long' },
};

const frameworkLogger = new NestLogger('HttpRouting');

/** The security headers of every response and what the pages add, resolved once (see `securityHeaderValues`). */
const { api: SECURITY, document: DOCUMENT_SECURITY } = securityHeaderValues();

/**
 * Answers Fastify's routing errors with the public `{ statusCode, error,
 * message }`. Neither the body nor the log line carries the URL: a query
 * string may hold a token.
 */
function onFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const known = FRAMEWORK_ERRORS[error.code];
  const status = known?.status ?? 500;
  if (known) frameworkLogger.debug(`${request.method} request ${request.id}: ${error.code}, answered ${status}`);
  else frameworkLogger.error(`${request.method} request ${request.id}: ${error.code} ${error.message}`);
  const body: ErrorBody = {
    statusCode: status,
    error: STATUS_CODES[status] ?? 'Error',
    message: known?.message ?? 'Internal server error',
  };
  // Fastify runs no onSend hook for these: the headers are set here.
  void reply.code(status).header(REQUEST_ID_HEADER, request.id).headers(SECURITY).send(body);
}

/**
 * Builds the application exactly as `main.ts` serves it (tests use this too):
 * Fastify, JSON logs, `/api/v1` prefix, OpenAPI at `/docs`, HTTP metrics,
 * JSON-only bodies within structural limits, client timeouts and security
 * headers.
 */
export async function createApp(
  options: AppConfigOptions = {},
  modules: AppModuleImport[] = [],
): Promise<NestFastifyApplication> {
  // Fastify reads whom to trust for `request.ip` when it is created, before the config module exists.
  const { trustProxy } = preflightConfig(process.cwd(), options).http;
  const adapter = new FastifyAdapter({
    genReqId: requestId,
    ...(trustProxy !== undefined && { trustProxy: [...trustProxy] }),
    bodyLimit: MAX_BODY_LIMIT,
    return503OnClosing: true,
    frameworkErrors: onFrameworkError,
    clientErrorHandler: clientErrorHandler(SECURITY),
    // No Express-style middleware in this app: without middie, Fastify runs
    // no middleware engine per request (Nest would register it regardless).
    skipMiddie: true,
    // Fastify's default is 100: room for the admin API's entry keys (`namespace:key`, up to about 300 characters).
    routerOptions: { maxParamLength: 400 },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(options, modules), adapter, {
    bufferLogs: true,
    // A failed boot must not dump the buffered lines (and Nest's own stack of the
    // error) in Nest's coloured format: main.ts prints one clean message. The
    // lines of a successful boot go to pino (flushLogs below).
    autoFlushLogs: false,
    abortOnError: false,
    // Nest's parsers would add application/x-www-form-urlencoded; the only body is JSON (registerJsonBodyParser).
    bodyParser: false,
  });
  const config = app.get<AppConfig>(APP_CONFIG);
  app.useLogger(app.get(PinoLoggerService));
  app.flushLogs();

  const fastify = app.getHttpAdapter().getInstance();
  registerJsonBodyParser(fastify, config.http.json);
  applyHttpTimeouts(app.getHttpServer(), config.http.timeouts);
  usePageSecurityHeaders(fastify, DOCUMENT_SECURITY);
  fastify.addHook('onRoute', (route) => {
    // Fastify reads bodyLimit per route; the config is known only after the
    // module graph is built, so it is applied as each route is registered.
    route.bodyLimit ??= config.http.bodyLimit;
  });
  // Responses finished while the server shuts down close their connection:
  // an idle keep-alive socket (a load balancer's, a client pool's) would
  // otherwise hold the close until its keep-alive timeout.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // One hook for the request id and the security headers (every hook is a step
  // of every request). onSend runs for every reply Fastify sends: handlers',
  // errors', 404s', routing errors'.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    reply.headers(SECURITY);
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.get(HttpMetricsService).instrument(fastify);
  if (config.log.http) logRequests(fastify, app.get(APP_PINO), app.get(APP_LOG_DESTINATION));

  app.setGlobalPrefix('api/v1', { exclude: UNPREFIXED });
  SwaggerModule.setup('docs', app, () => buildDocument(app));
  return app;
}
