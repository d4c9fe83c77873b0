import { applyDecorators } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { ApiExtension, ApiParam, ApiProperty, DocumentBuilder, SwaggerModule, getSchemaPath } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { METRICS_SECURITY } from '@app/metrics';

/** The body of every error response (`AllExceptionsFilter`), as the document shows it. */
export class ErrorBodyDto {
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 404 })
  statusCode: number;

  @ApiProperty({ description: "The status code's reason phrase", example: 'Not Found' })
  error: string;

  @ApiProperty({
    description: 'What went wrong; validation errors list one message per problem',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: 'No user 2b1c…',
  })
  message: string | string[];
}

/** Marks every operation of a controller (or one operation) as outside the rate limits. */
export const ApiUnthrottled = () => ApiExtension(UNTHROTTLED, true);
const UNTHROTTLED = 'x-unthrottled';

/** Documents path parameters as UUIDs (what `CanonicalUuidPipe` and `ParseUUIDPipe` accept). */
export const ApiUuidParams = (...names: string[]) =>
  applyDecorators(...names.map((name) => ApiParam({ name, type: 'string', format: 'uuid' })));

/** The security scheme of access tokens (`@ApiBearerAuth()`'s default name). */
const BEARER = 'bearer';

/** The operations' tags, in the order the document lists them. */
const TAGS: Array<[name: string, description: string]> = [
  ['auth', 'Accounts, token pairs, sessions and logout (revocation is immediate on every instance)'],
  ['users', 'Users: cached reads for any user, writes by the user or an admin'],
  ['boardrooms', 'Boardrooms and their members: cached reads for members, writes by owners'],
  ['conversations', 'AI conversations in a boardroom: state, messages, posting (JSON or server-sent events)'],
  ['cache-admin', 'The cache admin API (admins only): health, stats, warm, invalidate, keys, audit'],
  ['health', 'Liveness and readiness probes (Terminus)'],
  ['ops', 'Prometheus metrics, the admin dashboard and the benchmarks’ ping routes'],
];

/** The package exports the document's type, not its parts. */
type OperationObject = NonNullable<OpenAPIObject['paths'][string]['get']>;
type ResponseObject = { description: string; content?: Record<string, unknown>; headers?: Record<string, unknown> };

type Method = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
const METHODS: Method[] = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The responses every operation may give, by what the operation is: they come from global pipes, guards and filters, not from its handler. */
const COMMON: Record<
  string,
  { when: (op: OperationObject, secured: boolean, throttled: boolean) => boolean; description: string }
> = {
  '400': {
    when: (op) => Boolean(op.requestBody) || (op.parameters?.length ?? 0) > 0,
    description: 'Invalid input: a malformed id, query or body (each problem in `message`)',
  },
  '401': { when: (_op, secured) => secured, description: 'Missing, malformed, expired or revoked access token' },
  '413': {
    when: (op) => Boolean(op.requestBody),
    description: 'The body exceeds BODY_LIMIT or the JSON structure limits',
  },
  '415': { when: (op) => Boolean(op.requestBody), description: 'The body is not JSON (`application/json`)' },
  '429': {
    when: (_op, _secured, throttled) => throttled,
    description: 'Rate limited: retry after `Retry-After` seconds',
  },
  '503': {
    when: (_op, secured) => secured,
    description: 'A dependency is unavailable: token revocations cannot be checked, or Postgres does not answer',
  },
};

/**
 * Completes what the decorators cannot say per operation: public operations
 * get an explicit empty `security`, every operation the responses the global
 * pipeline can give (400 for input, 401 and 503 behind the auth guard, 429
 * unless unthrottled), and every error response the one error schema.
 */
export function completeDocument(document: OpenAPIObject): OpenAPIObject {
  const errorBody = { $ref: getSchemaPath(ErrorBodyDto) };
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      // Behind the auth guard: a bearer token is required (an empty alternative makes it optional, as on /metrics).
      // The Authorization header is the security requirement's, not a parameter.
      op.parameters = op.parameters?.filter(
        (p) => !('in' in p && p.in === 'header' && /^authorization$/i.test(p.name)),
      );
      if (op.parameters?.length === 0) delete op.parameters;
      const secured =
        (op.security ?? []).some((s) => BEARER in s) && !(op.security ?? []).some((s) => Object.keys(s).length === 0);
      op.security ??= [];
      const extensions = op as OperationObject & Record<string, unknown>;
      const throttled = extensions[UNTHROTTLED] !== true;
      delete extensions[UNTHROTTLED];
      for (const [status, rule] of Object.entries(COMMON)) {
        if (rule.when(op, secured, throttled)) op.responses[status] ??= { description: rule.description };
      }
      if (throttled) {
        const limited = op.responses['429'] as ResponseObject;
        limited.headers ??= {
          'Retry-After': { description: 'Seconds until a new attempt may succeed', schema: { type: 'integer' } },
        };
      }
      for (const [status, response] of Object.entries(op.responses)) {
        const error = Number(status) >= 400 || status === 'default';
        const described = response as ResponseObject;
        if (error && !described.content) described.content = { 'application/json': { schema: errorBody } };
      }
    }
  }
  return document;
}

/** The OpenAPI 3 document of the app as it serves it, served at `/docs-json`. */
export function buildDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Boardroom API')
    .setDescription(
      'The backend of an AI boardroom app whose product is its caching layer. Every error answers ' +
        '`{statusCode, error, message}`; responses served from the HTTP cache carry `X-Cache` and an `ETag`.',
    )
    .setVersion('1')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addServer('/', 'This server')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access token of a pair' },
      BEARER,
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when set' }, METRICS_SECURITY);
  for (const [name, description] of TAGS) builder.addTag(name, description);
  return completeDocument(SwaggerModule.createDocument(app, builder.build(), { extraModels: [ErrorBodyDto] }));
}
