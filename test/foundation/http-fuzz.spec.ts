import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { InjectOptions } from 'light-my-request';
import { startAuthInstance, type AuthInstance } from '../support/auth-app';
import { uniquePrefix } from '../support/cache-instance';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { TestRedisServer } from '../support/redis-server';

type Json = Record<string, any>;

/** Every request must be answered within this: a hang is a finding, not a slow test. */
const ANSWER_WITHIN_MS = 10_000;
/** Runs per property; FUZZ_RUNS raises it for a longer local session. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
/** The structural JSON limits the app runs with here (small, so the fuzzer reaches them). */
const BODY_LIMIT = 64 * 1024;

const METHODS = ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS'] as const;

/**
 * A property-based fuzz of the whole HTTP API, driven by its own OpenAPI
 * document: random and malformed path parameters, query strings, bodies,
 * content types, headers, methods and oversized payloads, on every route,
 * with no token, a garbage token, a user's and an admin's. Whatever comes
 * in: no 5xx, an answer within the deadline, every error in the contract's
 * `{statusCode, error, message}` shape, and a heap that stays bounded.
 */
describe('HTTP fuzzing (fast-check, every route of the OpenAPI document)', () => {
  let db: TestDatabase;
  let redis: TestRedisServer;
  let instance: AuthInstance;
  let operations: Array<{ method: string; path: string; op: Json; body: fc.Arbitrary<unknown> }>;
  let components: Record<string, Json> = {};
  const tokens: Record<'none' | 'garbage' | 'user' | 'admin', string | undefined> = {
    none: undefined,
    garbage: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
    user: undefined,
    admin: undefined,
  };
  /** Ids that exist (the fuzzer's own user, a boardroom, a conversation), so some requests get past the 404s. */
  const known: Record<string, string> = {};
  /** Tokens of extra sessions, spent by the logout routes (each ends the session it presents). */
  const spare: string[] = [];
  const answered = new Map<number, number>();
  const byOperation = new Map<string, Set<number>>();

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), TestRedisServer.start()]);
    instance = await startAuthInstance({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      CACHE_PREFIX: uniquePrefix(),
      THROTTLE_AUTH_LIMIT: '100000',
      THROTTLE_LIMIT: '0',
      ADMIN_EMAIL: 'fuzz-admin@example.com',
      ADMIN_PASSWORD: 'fuzz-admin-password',
      BODY_LIMIT: String(BODY_LIMIT),
      AI_SIMULATED_LATENCY_MS: '5',
      HEALTH_MAX_HEAP_MB: '65536',
    });
    const inject = (options: InjectOptions) => instance.app.inject(options);
    const document = (await inject({ method: 'GET', url: '/docs-json' })).json();
    components = document.components.schemas;
    operations = Object.entries<Json>(document.paths).flatMap(([path, item]) =>
      Object.entries<Json>(item).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        op,
        body: documentedBody(op.requestBody?.content?.['application/json']?.schema),
      })),
    );
    const account = await instance.client.register('Fuzz User');
    tokens.user = (await instance.client.login(account.email, account.password)).accessToken;
    tokens.admin = (await instance.client.login('fuzz-admin@example.com', 'fuzz-admin-password')).accessToken;
    known.id = account.id;
    for (let i = 0; i < 40; i++) spare.push((await instance.client.login(account.email, account.password)).accessToken);
    const room = await instance.client.request('POST', '/api/v1/boardrooms', {
      token: tokens.user,
      body: { name: 'Fuzz' },
    });
    known.boardroomId = room.json().id;
    const conversation = await instance.client.request(
      'POST',
      `/api/v1/boardrooms/${known.boardroomId}/conversations`,
      {
        token: tokens.user,
        body: { title: 'Fuzz' },
      },
    );
    known.conversationId = conversation.json().id;
  });
  afterAll(async () => {
    await instance?.app.close();
    await redis?.stop();
    await db?.drop();
  });

  // ---- What the fuzzer sends ----

  const hostileText = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom(
      '',
      ' ',
      '..',
      '../..',
      '%',
      '%00',
      '%zz',
      '\u0000',
      'null',
      'undefined',
      '-1',
      '0',
      '1e309',
      'NaN',
    ),
    fc.constantFrom("' OR 1=1 --", '${jndi:ldap://x}', '<script>alert(1)</script>', '__proto__', 'constructor'),
    fc.integer().map(String),
    fc.uuid().map((u) => u.toUpperCase()),
    fc.nat(3000).map((n) => 'x'.repeat(n)),
  );
  const pathValue = fc.oneof(
    { weight: 3, arbitrary: hostileText },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: fc.constantFrom('known') },
  );
  const jsonValue = fc.jsonValue({ maxDepth: 4 });
  const body = fc.oneof(
    { weight: 3, arbitrary: fc.dictionary(fc.string({ maxLength: 12 }), jsonValue, { maxKeys: 8 }) },
    { weight: 2, arbitrary: jsonValue },
    { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', '[1,2', '{"__proto__":{"admin":true}}', 'null', '""') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{"x":"' + 'y'.repeat(BODY_LIMIT) + '"}',
        JSON.stringify(Array.from({ length: 5000 }, (_, i) => i)),
        '['.repeat(500) + ']'.repeat(500),
        JSON.stringify(Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]))),
      ),
    },
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/json; charset=latin1',
    undefined,
  );
  const query = fc.dictionary(
    fc.oneof(
      fc.constantFrom('page', 'limit', 'afterSeq', 'count', 'cursor', 'match', 'nocache'),
      fc.string({ maxLength: 8 }),
    ),
    fc.oneof(hostileText, fc.array(hostileText, { maxLength: 3 })),
    { maxKeys: 4 },
  );
  const headers = fc.record(
    {
      accept: fc.constantFrom('application/json', 'text/event-stream', '*/*', 'text/html', ''),
      'if-none-match': fc.oneof(
        fc.constant('*'),
        fc.string({ maxLength: 60 }).map((s) => `"${s}"`),
      ),
      'cache-control': fc.constantFrom('no-cache', 'no-store', 'max-age=0', 'only-if-cached', 'max-stale=999999999999'),
      'x-request-id': hostileText,
    },
    { requiredKeys: [] },
  );
  /**
   * A body shaped like the operation's documented request body: its property
   * names, with values of the documented type (or not), some left out — so the
   * fuzzer gets past "unknown property" into the handlers' own checks.
   */
  const documentedBody = (schema: Json | undefined): fc.Arbitrary<unknown> => {
    const resolved = schema?.$ref ? components[schema.$ref.split('/').pop()!] : schema;
    if (!resolved?.properties) return jsonValue;
    const valueOf = (property: Json): fc.Arbitrary<unknown> => {
      const typed =
        property.type === 'integer'
          ? fc.oneof(fc.integer({ min: -1, max: 300 }), fc.constantFrom(0, 1, 2 ** 31, -(2 ** 53)))
          : property.type === 'number'
            ? fc.double()
            : property.type === 'boolean'
              ? fc.boolean()
              : property.type === 'array'
                ? fc.array(fc.oneof(hostileText, fc.uuid()), { maxLength: 5 })
                : property.type === 'object' || property.$ref || property.allOf
                  ? fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 4 })
                  : property.enum
                    ? fc.constantFrom(...(property.enum as unknown[]))
                    : property.format === 'uuid'
                      ? fc.oneof(fc.constant(known.id), fc.uuid(), hostileText)
                      : property.format === 'email'
                        ? fc.oneof(fc.emailAddress(), hostileText)
                        : fc.oneof(fc.constantFrom('Fuzzed name', 'What next?'), hostileText);
      return fc.oneof({ weight: 4, arbitrary: typed }, { weight: 1, arbitrary: jsonValue });
    };
    return fc.record(
      Object.fromEntries(
        Object.entries<Json>(resolved.properties).map(([name, property]) => [name, valueOf(property)]),
      ),
      { requiredKeys: [] },
    );
  };

  const request = fc.record({
    operation: fc.nat(),
    method: fc.oneof(
      { weight: 5, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
    ),
    params: fc.array(pathValue, { minLength: 3, maxLength: 3 }),
    query,
    body: fc.option(body, { nil: undefined }),
    contentType,
    headers,
    auth: fc.constantFrom('none', 'garbage', 'user', 'user', 'admin'),
  });

  type Input = (typeof request extends fc.Arbitrary<infer R> ? R : never) & { shaped?: unknown };

  /** A case: an operation, a request, and (for half the cases with a body) one shaped like its documented body. */
  const cases = () =>
    fc.nat({ max: operations.length - 1 }).chain((operation) =>
      fc
        .record({
          input: request,
          shaped: fc.option(operations[operation].body, { nil: undefined }),
          useShaped: fc.boolean(),
        })
        .map(({ input, shaped, useShaped }): Input => ({
          ...input,
          operation,
          ...(useShaped && shaped !== undefined ? { shaped } : {}),
        })),
    );

  /** The concrete request of one generated case. */
  function build(input: Input): InjectOptions & { url: string } {
    const { method, path } = operations[input.operation % operations.length];
    let p = 0;
    const url = path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
      const value = input.params[p++ % input.params.length];
      const id =
        name === 'boardroomId'
          ? known.boardroomId
          : name === 'id' && path.startsWith('/api/v1/conversations')
            ? known.conversationId
            : known.id;
      // Never delete the fuzzer's own account or boardroom (it would only test 401s afterwards).
      const real =
        value === 'known' && !(method === 'DELETE' || input.method === 'DELETE')
          ? id
          : value === 'known'
            ? randomUUID()
            : value;
      return encodeURIComponent(real);
    });
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(input.query)) for (const v of [value].flat()) search.append(key, v);
    // Logging out revokes the token it presents: those routes get a token of their own, or every later case would be a 401.
    const ending = /\/logout(-all)?$/.test(path) && (input.auth === 'user' || input.auth === 'admin');
    const token = ending ? spare.pop() : tokens[input.auth];
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(input.headers)) if (value !== undefined) headers[key] = value;
    if (token) headers.authorization = `Bearer ${token}`;
    const payload = 'shaped' in input ? input.shaped : input.body;
    if ('shaped' in input) headers['content-type'] = 'application/json';
    else if (input.contentType && payload !== undefined) headers['content-type'] = input.contentType;
    return {
      method: input.method ?? method,
      url: search.size ? `${url}?${search}` : url,
      headers,
      ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    };
  }

  async function send(options: InjectOptions & { url: string }) {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ANSWER_WITHIN_MS} ms`)), ANSWER_WITHIN_MS);
    });
    try {
      return await Promise.race([instance.app.inject(options), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  it('answers every request without a 5xx, within the deadline, with the contract error body', async () => {
    await fc.assert(
      fc.asyncProperty(cases(), async (input) => {
        const options = build(input);
        const response = await send(options);
        const where = `${options.method} ${options.url.slice(0, 200)}`;
        answered.set(response.statusCode, (answered.get(response.statusCode) ?? 0) + 1);
        const key = `${options.method} ${operations[input.operation % operations.length].path}`;
        if (!byOperation.has(key)) byOperation.set(key, new Set());
        byOperation.get(key)!.add(response.statusCode);
        // RFC 9111: `only-if-cached` with nothing stored is a 504 by definition, not a failure.
        const unstored = response.statusCode === 504 && options.headers?.['cache-control'] === 'only-if-cached';
        expect({ where, status: response.statusCode, server: response.statusCode >= 500 && !unstored }).toEqual({
          where,
          status: response.statusCode,
          server: false,
        });
        if (response.statusCode >= 400 && options.method !== 'HEAD') {
          const body = response.json();
          expect({
            where,
            statusCode: body.statusCode,
            error: typeof body.error,
            message: typeof body.message,
          }).toEqual({
            where,
            statusCode: response.statusCode,
            error: 'string',
            message: Array.isArray(body.message) ? 'object' : 'string',
          });
        }
      }),
      { numRuns: RUNS, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) },
    );
    if (process.env.FUZZ_REPORT)
      console.log(
        JSON.stringify([...answered].sort()),
        JSON.stringify(
          [...byOperation].map(([k, v]) => `${k} ${[...v].sort().join(',')}`),
          null,
          1,
        ),
      );
    // The fuzzer reached the handlers, not only the gates.
    const statuses = [...answered.keys()];
    expect(statuses.some((s) => s >= 200 && s < 300)).toBe(true);
    expect(statuses).toEqual(expect.arrayContaining([400, 401, 404]));
  });

  it('keeps the heap bounded over a long run of oversized and malformed bodies', async () => {
    // A heap reading means something only after a full collection.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // The least of a few readings after full collections: the app's timers and pools lift any single reading
    // by up to about 2 MB with no leak, and a leak lifts every reading.
    const heap = async () => {
      let least = Infinity;
      for (let i = 0; i < 5; i++) {
        gc();
        least = Math.min(least, process.memoryUsage().heapUsed);
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      return least;
    };
    let sent = 0;
    const oversized = fc.record({
      operation: fc.constantFrom(...operations.flatMap((o, i) => (o.op.requestBody ? [i] : []))),
      size: fc.integer({ min: BODY_LIMIT - 100, max: BODY_LIMIT * 4 }),
      shape: fc.constantFrom('string', 'array', 'nested', 'broken'),
    });
    const payload = ({ size, shape }: { size: number; shape: string }) =>
      shape === 'string'
        ? JSON.stringify({ content: 'z'.repeat(size) })
        : shape === 'array'
          ? JSON.stringify({ items: Array.from({ length: size / 4 }, () => 1) })
          : shape === 'nested'
            ? '{"a":'.repeat(Math.min(size / 5, 20_000)) + '1' + '}'.repeat(Math.min(size / 5, 20_000))
            : '{"a":"' + 'b'.repeat(size);
    let runs = 0;
    const run = (numRuns: number) =>
      fc.assert(
        fc.asyncProperty(oversized, async (input) => {
          const { method, path } = operations[input.operation];
          const url = path.replace(/\{([^}]+)\}/g, () => randomUUID());
          const body = payload(input);
          sent += body.length;
          const response = await send({
            method: method,
            url,
            headers: { authorization: `Bearer ${tokens.user}`, 'content-type': 'application/json' },
            payload: body,
          });
          runs++;
          expect({ url, status: response.statusCode, server: response.statusCode >= 500 }).toEqual({
            url,
            status: response.statusCode,
            server: false,
          });
        }),
        { numRuns },
      );
    // A first round warms what is allocated once (compiled code, lazily built schemas, pools); a leak keeps growing after it.
    await run(Math.ceil(RUNS / 4));
    const before = await heap();
    sent = 0;
    runs = 0;
    await run(Math.ceil(RUNS / 2));
    // Each request carried up to 256 KiB (about 15 MB in all); what the process keeps after all of them is a
    // small part of their sum. A single reading moves by ±2 MB with no leak (the app's timers and pools; once
    // it crossed the bound on Node 24 by 0.1 MB), hence the least of several; the bound is a quarter: a leak
    // keeping every body, or one in four, still fails it.
    expect(runs).toBeGreaterThan(50);
    expect((await heap()) - before).toBeLessThan(sent / 4);
  });
});
