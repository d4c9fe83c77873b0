import type { FastifyInstance } from 'fastify';
import { isUtf8 } from 'node:buffer';
import type { JsonBodyLimits } from '../config/app-config';
import { findJsonBodyViolation, JsonBodyRejectedError } from './json-body-limits';

/** The one media type a request body may have (the contract is "all JSON"). */
export const JSON_MEDIA_TYPE = 'application/json';

/**
 * Makes `application/json` the only body Fastify accepts, parsed by Fastify's
 * own JSON parser (secure-json-parse: a `__proto__` or `constructor.prototype`
 * key is a 400) and then checked against `limits` before anything else sees
 * it. Every other content type with a body (`text/plain`, forms, multipart,
 * none at all) is a 415: Fastify's default `text/plain` parser is removed, and
 * the app is created with Nest's body parsers off (they add
 * `application/x-www-form-urlencoded`).
 */
export function registerJsonBodyParser(fastify: FastifyInstance, limits: JsonBodyLimits): void {
  // 'error' for both, as Fastify's defaults: poisoned keys are refused, not silently dropped.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(JSON_MEDIA_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    // JSON is UTF-8 (RFC 8259): invalid bytes would otherwise become U+FFFD silently, and be stored so.
    if (!isUtf8(bytes)) {
      done(new JsonBodyRejectedError({ status: 400, message: 'The body is not valid UTF-8' }), undefined);
      return;
    }
    // Fastify's parser answers through `done`, synchronously; its type also allows a promise.
    void parseJson(request, bytes.toString('utf8'), (error, value) => {
      if (error) return done(error, undefined);
      const violation = findJsonBodyViolation(value, limits);
      if (violation) done(new JsonBodyRejectedError(violation), undefined);
      else done(null, value);
    });
  });
}
