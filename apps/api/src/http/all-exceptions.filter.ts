import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { STATUS_CODES } from 'node:http';
import { isClientAbort } from './client-abort';
import { isDatabaseUnavailable } from './database-errors';
import { domainError } from './domain-errors';
import { allowedMethods, pathOf, type RouteFinder } from './method-not-allowed';

/** The error body of the public contract. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
}

/** Messages for Fastify's own client errors, whose texts mention internals. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'Request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported media type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'Body cannot be empty when content-type is application/json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'Malformed JSON body',
};

const phrase = (status: number) => STATUS_CODES[status] ?? 'Error';

/**
 * Maps every error to `{ statusCode, error, message }`: HTTP exceptions keep
 * their status, the libraries' coded errors get theirs (`domain-errors.ts`),
 * Fastify's client errors (malformed JSON, body too large) keep their 4xx, an
 * unreachable database is a 503, a client that aborted its request a 400
 * logged at debug level (the answer cannot reach it anyway), anything else is a logged 500 whose body
 * reveals nothing. Bodies that are not error messages (Terminus health
 * results) pass through.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<unknown>();
    const incoming = http.getRequest<{ id?: string; raw?: unknown } | undefined>();
    // No request-scoped logger: the line names its request, as the request log line does.
    const request = `request ${incoming?.id ?? '-'}`;
    if (isClientAbort(exception, incoming)) {
      // Checked first: the reset's ECONNRESET would otherwise read as a lost database connection.
      this.logger.debug(`${request}: the client aborted the request before its body arrived`);
      const status = HttpStatus.BAD_REQUEST;
      this.adapterHost.httpAdapter.reply(response, errorBody(status, 'The request was aborted by the client'), status);
      return;
    }
    const notAllowed = this.methodNotAllowed(exception, incoming);
    if (notAllowed) {
      const status = HttpStatus.METHOD_NOT_ALLOWED;
      this.adapterHost.httpAdapter.setHeader(response, 'Allow', notAllowed.allow.join(', '));
      this.adapterHost.httpAdapter.reply(response, errorBody(status, notAllowed.message), status);
      return;
    }
    const [status, body] = this.toResponse(exception);
    // A limit's wait (login failures): the same header the throttler guard sets.
    const retryAfter = domainError(exception)?.retryAfter;
    if (retryAfter !== undefined) this.adapterHost.httpAdapter.setHeader(response, 'Retry-After', String(retryAfter));
    if (status === 503 && exception instanceof Error && exception.cause instanceof Error) {
      this.logger.warn(`${request}: ${exception.message}: ${exception.cause.message}`);
    } else if (status === 503 && !(exception instanceof HttpException)) {
      this.logger.warn(
        `${request}: database unavailable: ${exception instanceof Error ? exception.message : String(exception)}`,
      );
    } else if (status === 502 && exception instanceof Error) {
      // The AI provider failed: its status or failure, not a bug here.
      this.logger.warn(`${request}: ${exception.message}`);
    } else if (status >= 500 && !(exception instanceof HttpException)) {
      this.logger.error(
        `${request}: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`,
      );
    }
    this.adapterHost.httpAdapter.reply(response, body, status);
  }

  /**
   * When no route matched the request (Nest's not-found handler threw) but
   * its path is routed for other methods: those methods and the message of
   * a 405. Else undefined (a 404).
   */
  private methodNotAllowed(exception: unknown, incoming: unknown): { allow: string[]; message: string } | undefined {
    if (!(exception instanceof NotFoundException)) return undefined;
    const request = incoming as { method?: string; url?: string; routeOptions?: { url?: string } } | undefined;
    if (!request?.routeOptions || request.routeOptions.url !== undefined || !request.method || !request.url)
      return undefined;
    const path = pathOf(request.url);
    const allow = allowedMethods(this.adapterHost.httpAdapter.getInstance<RouteFinder>(), request.method, path);
    return allow.length > 0 ? { allow, message: `${request.method} is not allowed on ${path}` } : undefined;
  }

  private toResponse(exception: unknown): [number, unknown] {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const payload = exception.getResponse();
      if (typeof payload === 'string') return [status, errorBody(status, withoutQuery(status, payload))];
      if ('message' in payload) {
        const message = (payload as { message: string | string[] }).message;
        return [status, errorBody(status, typeof message === 'string' ? withoutQuery(status, message) : message)];
      }
      return [status, payload];
    }
    const domain = domainError(exception);
    if (domain) return [domain.status, errorBody(domain.status, domain.message)];
    if (isDatabaseUnavailable(exception)) {
      const status = HttpStatus.SERVICE_UNAVAILABLE;
      return [status, errorBody(status, 'The database is unavailable; retry later')];
    }
    const clientError = asClientError(exception);
    if (clientError) {
      return [
        clientError.statusCode,
        errorBody(clientError.statusCode, FASTIFY_MESSAGES[clientError.code] ?? clientError.message),
      ];
    }
    return [HttpStatus.INTERNAL_SERVER_ERROR, errorBody(HttpStatus.INTERNAL_SERVER_ERROR, 'Internal server error')];
  }
}

/**
 * Nest's "Cannot GET /path?query" for an unknown route, without the query: a
 * query string may carry a token, and an error body must not echo it.
 */
function withoutQuery(status: number, message: string): string {
  return status === 404 && message.startsWith('Cannot ') ? pathOf(message) : message;
}

function errorBody(statusCode: number, message: string | string[]): ErrorBody {
  return { statusCode, error: phrase(statusCode), message };
}

/** Fastify's errors carry a 4xx `statusCode` and an `FST_…` code. */
function asClientError(exception: unknown): { statusCode: number; code: string; message: string } | undefined {
  if (!(exception instanceof Error)) return undefined;
  const { statusCode, code } = exception as Error & { statusCode?: unknown; code?: unknown };
  if (typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return undefined;
  return { statusCode, code: typeof code === 'string' ? code : '', message: exception.message };
}
