import SwaggerParser from '@apidevtools/swagger-parser';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { RouteOptions } from 'fastify';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { startAuthInstance, type AuthInstance } from '../support/auth-app';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { TestRedisServer } from '../support/redis-server';
import { uniquePrefix } from '../support/cache-instance';

type Json = Record<string, any>;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Routes the app serves that are the document itself (Swagger UI and its files). */
const UNDOCUMENTED = /^\/docs(-json|-yaml|\/.*)?$/;

/** A served route as the document spells it: `/users/:id` is `/users/{id}`. */
const asDocumentPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * The OpenAPI document against the app that serves it: valid, lint-clean,
 * covering every route, with security that matches what the guards do, and
 * with every response the scenario below receives — success and error — being
 * one the document declares, in the shape it declares. Then a client
 * generated from the document type-checks and runs against the app.
 */
describe('OpenAPI document', () => {
  let db: TestDatabase;
  let redis: TestRedisServer;
  let instance: AuthInstance;
  let baseUrl: string;
  let document: Json;
  const served: Array<{ method: string; path: string }> = [];
  const admin = { email: 'openapi-admin@example.com', password: 'admin-password-1' };
  /** Operations (`GET /api/v1/users/{id}`) that answered a documented 2xx whose body matched. */
  const confirmed = new Set<string>();

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), TestRedisServer.start()]);
    instance = await startAuthInstance(
      {
        DATABASE_URL: db.url,
        REDIS_URL: redis.url,
        CACHE_PREFIX: uniquePrefix(),
        THROTTLE_AUTH_LIMIT: '1000',
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
        HEALTH_MAX_HEAP_MB: '65536',
      },
      false,
    );
    const fastify = instance.app.getHttpAdapter().getInstance();
    fastify.addHook('onRoute', (route: RouteOptions) => {
      for (const method of [route.method].flat()) served.push({ method, path: route.url });
    });
    await instance.app.init();
    await instance.app.listen(0, '127.0.0.1');
    const address = fastify.server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    document = await (await fetch(`${baseUrl}/docs-json`)).json();
  });
  afterAll(async () => {
    await instance?.app.close();
    await redis?.stop();
    await db?.drop();
  });

  const operations = (): Array<{ method: Method; path: string; op: Json }> =>
    Object.entries<Json>(document.paths).flatMap(([path, item]) =>
      Object.entries<Json>(item).map(([method, op]) => ({ method: method.toUpperCase() as Method, path, op })),
    );

  it('is valid OpenAPI 3', async () => {
    expect(document.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  });

  it("passes Redocly's recommended rules, but for routes that have no 4xx to give", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: 'openapi.json', config });
    const found = problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}: ${p.message}`);
    // The probes, the dashboard page and the ping ceiling take no input and need no token: nothing of
    // theirs is a client error, and inventing one for the linter would make the document untrue.
    const noClientError = ['/api/v1/ping', '/health/live', '/health/ready', '/health/redis', '/admin'];
    const allowed = noClientError.map(
      (path) => `warn operation-4xx-response #/paths/${path.replaceAll('/', '~1')}/get/responses`,
    );
    expect(found.filter((line) => !allowed.some((a) => line.startsWith(a)))).toEqual([]);
  });

  it('documents every route the app serves, and only those', () => {
    const documented = operations().map(({ method, path }) => `${method} ${path}`);
    const routes = served
      .filter(({ method, path }) => method !== 'HEAD' && !UNDOCUMENTED.test(path))
      .map(({ method, path }) => `${method} ${asDocumentPath(path)}`);
    expect(new Set(routes).size).toBeGreaterThan(30);
    expect([...new Set(routes)].sort()).toEqual([...new Set(documented)].sort());
  });

  it('has a summary, an error schema on every error response and integer pages everywhere', () => {
    for (const { method, path, op } of operations()) {
      expect({ method, path, summary: typeof op.summary }).toEqual({ method, path, summary: 'string' });
      for (const [status, response] of Object.entries<Json>(op.responses)) {
        if (Number(status) < 400) continue;
        expect({ method, path, status, content: Object.keys(response.content ?? {}) }).toEqual({
          method,
          path,
          status,
          content: ['application/json'],
        });
      }
      for (const parameter of op.parameters ?? []) {
        if (['page', 'limit', 'count', 'afterSeq'].includes(parameter.name))
          expect({ path, name: parameter.name, type: parameter.schema.type }).toEqual({
            path,
            name: parameter.name,
            type: 'integer',
          });
        if (parameter.in === 'path' && /^(id|userId|boardroomId)$/.test(parameter.name))
          expect({ path, name: parameter.name, format: parameter.schema.format }).toEqual({
            path,
            name: parameter.name,
            format: 'uuid',
          });
      }
    }
  });

  // ---- Responses against the document ----

  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();

  /** OpenAPI's schemas with `additionalProperties: false` where they leave it open: a field the document does not list is a finding. */
  const closed = (schema: unknown): unknown => {
    if (Array.isArray(schema)) return schema.map(closed);
    if (!schema || typeof schema !== 'object') return schema;
    const copy: Json = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, closed(v)]));
    if (typeof copy.$ref === 'string') copy.$ref = copy.$ref.replace(/^#\//, 'doc#/');
    if (copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
    // `nullable` beside `allOf: [$ref]` (how Nest writes a nullable object) means "this or null" to the
    // client generators, though JSON Schema would still apply the allOf to null: read it as they do.
    if (copy.nullable === true) {
      delete copy.nullable;
      return { anyOf: [copy, { type: 'null' }] };
    }
    return copy;
  };

  const validatorFor = (schema: Json): ValidateFunction => {
    if (!ajv.getSchema('doc')) ajv.addSchema({ $id: 'doc', components: closed(document.components) });
    const key = JSON.stringify(schema);
    let validate = validators.get(key);
    if (!validate) {
      validate = ajv.compile(closed(schema) as object);
      validators.set(key, validate);
    }
    return validate;
  };

  /** Calls the API and checks the answer against the document: its status is declared and its body fits. */
  async function call(
    method: Method,
    path: string,
    url: string,
    options: { token?: string; body?: unknown; expect?: number } = {},
  ): Promise<{ status: number; body: any }> {
    const response = await fetch(`${baseUrl}${url}`, {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    const op = document.paths[path]?.[method.toLowerCase()];
    const where = `${method} ${path} → ${response.status}`;
    expect({ where, documented: Boolean(op) }).toEqual({ where, documented: true });
    if (options.expect !== undefined)
      expect({ where, status: response.status }).toEqual({ where, status: options.expect });
    const declared = op.responses[String(response.status)];
    expect({ where, declared: Boolean(declared) }).toEqual({ where, declared: true });
    const type = (response.headers.get('content-type') ?? '').split(';')[0];
    let body: unknown = text;
    if (response.status !== 204) {
      const media = declared.content?.[type];
      expect({ where, type, declared: Boolean(media) }).toEqual({ where, type, declared: true });
      if (type === 'application/json') body = JSON.parse(text);
      if (media.schema) {
        const validate = validatorFor(media.schema);
        const valid = validate(body);
        expect({ where, errors: valid ? [] : validate.errors }).toEqual({ where, errors: [] });
      }
      if (response.status < 300) confirmed.add(`${method} ${path}`);
    } else {
      expect({ where, body: text }).toEqual({ where, body: '' });
      confirmed.add(`${method} ${path}`);
    }
    return { status: response.status, body };
  }

  it('answers 401 without a token exactly where the document requires one', async () => {
    const samples: Record<string, string> = { kind: 'user', key: 'default:x', file: 'admin.js' };
    for (const { method, path, op } of operations()) {
      const url = path.replace(/\{([^}]+)\}/g, (_m, name: string) => samples[name] ?? randomUUID());
      const response = await fetch(`${baseUrl}${url}`, {
        method,
        headers: method === 'POST' || method === 'PATCH' ? { 'content-type': 'application/json' } : {},
        body: method === 'POST' || method === 'PATCH' ? '{}' : undefined,
      });
      // Read to the end: a response left unread holds its connection busy, and the app's close waits for it.
      await response.arrayBuffer();
      const required = (op.security as Json[]).some((s) => 'bearer' in s);
      const where = `${method} ${path}`;
      if (required) expect({ where, status: response.status }).toEqual({ where, status: 401 });
      else expect({ where, unauthenticated: response.status === 401 }).toEqual({ where, unauthenticated: false });
      expect({ where, declared: String(response.status) in op.responses }).toEqual({ where, declared: true });
    }
  });

  it('declares every response a tour of the whole API receives, in the shape it has', async () => {
    const password = 'a-long-password-1';
    const email = `openapi-${randomUUID()}@example.com`;
    await call('GET', '/api/v1/ping', '/api/v1/ping', { expect: 200 });
    await call('POST', '/api/v1/ping', '/api/v1/ping', { body: { message: 'hello' }, expect: 200 });
    await call('POST', '/api/v1/ping', '/api/v1/ping', { body: { message: 42 }, expect: 400 });
    for (const probe of ['live', 'ready', 'redis'])
      await call('GET', `/health/${probe}`, `/health/${probe}`, { expect: 200 });
    await call('GET', '/metrics', '/metrics', { expect: 200 });
    await call('GET', '/admin', '/admin', { expect: 200 });
    await call('GET', '/admin/assets/{file}', '/admin/assets/admin.js', { expect: 200 });
    await call('GET', '/admin/assets/{file}', '/admin/assets/admin.css', { expect: 200 });
    await call('GET', '/admin/assets/{file}', '/admin/assets/nope.js', { expect: 404 });

    const registered = await call('POST', '/api/v1/auth/register', '/api/v1/auth/register', {
      body: { email, password, name: 'Open Api' },
      expect: 201,
    });
    await call('POST', '/api/v1/auth/register', '/api/v1/auth/register', {
      body: { email, password, name: 'Again' },
      expect: 409,
    });
    await call('POST', '/api/v1/auth/login', '/api/v1/auth/login', {
      body: { email, password: 'wrong-password' },
      expect: 401,
    });
    const pair = (
      await call('POST', '/api/v1/auth/login', '/api/v1/auth/login', { body: { email, password }, expect: 200 })
    ).body;
    const refreshed = (
      await call('POST', '/api/v1/auth/refresh', '/api/v1/auth/refresh', {
        body: { refreshToken: pair.refreshToken },
        expect: 200,
      })
    ).body;
    const token: string = refreshed.accessToken;
    const me = (await call('GET', '/api/v1/auth/me', '/api/v1/auth/me', { token, expect: 200 })).body;
    expect(me.id).toBe(registered.body.id);
    await call('GET', '/api/v1/ping/auth', '/api/v1/ping/auth', { token, expect: 200 });

    const adminPair = (await call('POST', '/api/v1/auth/login', '/api/v1/auth/login', { body: admin, expect: 200 }))
      .body;
    const adminToken: string = adminPair.accessToken;

    // Users.
    await call('GET', '/api/v1/users', '/api/v1/users?page=1&limit=5', { token, expect: 200 });
    await call('GET', '/api/v1/users', '/api/v1/users?limit=500', { token, expect: 400 });
    await call('GET', '/api/v1/users/{id}', `/api/v1/users/${me.id}`, { token, expect: 200 });
    await call('GET', '/api/v1/users/{id}', `/api/v1/users/${randomUUID()}`, { token, expect: 404 });
    await call('GET', '/api/v1/users/{id}', '/api/v1/users/not-a-uuid', { token, expect: 400 });
    await call('PATCH', '/api/v1/users/{id}', `/api/v1/users/${me.id}`, {
      token,
      body: { name: 'Renamed' },
      expect: 200,
    });
    await call('PATCH', '/api/v1/users/{id}', `/api/v1/users/${me.id}`, {
      token,
      body: { role: 'admin' },
      expect: 403,
    });

    // Boardrooms and members.
    const other = (
      await call('POST', '/api/v1/auth/register', '/api/v1/auth/register', {
        body: { email: `member-${randomUUID()}@example.com`, password, name: 'Member' },
        expect: 201,
      })
    ).body;
    const room = (
      await call('POST', '/api/v1/boardrooms', '/api/v1/boardrooms', {
        token,
        body: { name: 'Docs', description: 'x' },
        expect: 201,
      })
    ).body;
    await call('GET', '/api/v1/boardrooms', '/api/v1/boardrooms', { token, expect: 200 });
    await call('GET', '/api/v1/boardrooms/{id}', `/api/v1/boardrooms/${room.id}`, { token, expect: 200 });
    await call('PATCH', '/api/v1/boardrooms/{id}', `/api/v1/boardrooms/${room.id}`, {
      token,
      body: { description: null },
      expect: 200,
    });
    await call('POST', '/api/v1/boardrooms/{id}/members', `/api/v1/boardrooms/${room.id}/members`, {
      token,
      body: { userId: other.id },
      expect: 201,
    });
    await call('POST', '/api/v1/boardrooms/{id}/members', `/api/v1/boardrooms/${room.id}/members`, {
      token,
      body: { userId: other.id },
      expect: 409,
    });
    await call(
      'DELETE',
      '/api/v1/boardrooms/{id}/members/{userId}',
      `/api/v1/boardrooms/${room.id}/members/${other.id}`,
      {
        token,
        expect: 204,
      },
    );

    // Conversations (the simulated provider).
    const conversation = (
      await call(
        'POST',
        '/api/v1/boardrooms/{boardroomId}/conversations',
        `/api/v1/boardrooms/${room.id}/conversations`,
        {
          token,
          body: { title: 'Plans' },
          expect: 201,
        },
      )
    ).body;
    const posted = (
      await call('POST', '/api/v1/conversations/{id}/messages', `/api/v1/conversations/${conversation.id}/messages`, {
        token,
        body: { content: 'What next?', temperature: 0 },
        expect: 201,
      })
    ).body;
    expect(posted.assistantMessage.seq).toBe(2);
    await call(
      'GET',
      '/api/v1/conversations/{id}/messages',
      `/api/v1/conversations/${conversation.id}/messages?afterSeq=0`,
      {
        token,
        expect: 200,
      },
    );
    const state = (
      await call('GET', '/api/v1/conversations/{id}', `/api/v1/conversations/${conversation.id}`, {
        token,
        expect: 200,
      })
    ).body;
    await call('PATCH', '/api/v1/conversations/{id}', `/api/v1/conversations/${conversation.id}`, {
      token,
      body: { version: state.version, context: { goal: 'docs' } },
      expect: 200,
    });
    await call('PATCH', '/api/v1/conversations/{id}', `/api/v1/conversations/${conversation.id}`, {
      token,
      body: { version: state.version, title: 'Stale' },
      expect: 409,
    });

    // The cache admin API.
    await call('GET', '/api/v1/cache/health', '/api/v1/cache/health', { token, expect: 403 });
    await call('GET', '/api/v1/cache/health', '/api/v1/cache/health', { token: adminToken, expect: 200 });
    await call('POST', '/api/v1/cache/warm/{kind}/{id}', `/api/v1/cache/warm/users/${me.id}`, {
      token: adminToken,
      expect: 200,
    });
    await call('POST', '/api/v1/cache/warm/{kind}/{id}', `/api/v1/cache/warm/nothing/${me.id}`, {
      token: adminToken,
      expect: 404,
    });
    await call('GET', '/api/v1/cache/stats', '/api/v1/cache/stats', { token: adminToken, expect: 200 });
    const page = (
      await call('GET', '/api/v1/cache/keys', '/api/v1/cache/keys?count=1000', { token: adminToken, expect: 200 })
    ).body;
    expect(page.keys.length).toBeGreaterThan(0);
    const key = encodeURIComponent(page.keys[0].key);
    await call('GET', '/api/v1/cache/keys/{key}', `/api/v1/cache/keys/${key}`, { token: adminToken, expect: 200 });
    await call('DELETE', '/api/v1/cache/keys/{key}', `/api/v1/cache/keys/${key}`, { token: adminToken, expect: 204 });
    await call('GET', '/api/v1/cache/keys/{key}', `/api/v1/cache/keys/${key}`, { token: adminToken, expect: 404 });
    await call('POST', '/api/v1/cache/invalidate', '/api/v1/cache/invalidate', {
      token: adminToken,
      body: { tags: [`user:${me.id}`] },
      expect: 200,
    });
    await call('POST', '/api/v1/cache/invalidate', '/api/v1/cache/invalidate', {
      token: adminToken,
      body: {},
      expect: 400,
    });
    await call('DELETE', '/api/v1/cache/invalidate/users/{id}', `/api/v1/cache/invalidate/users/${me.id}`, {
      token: adminToken,
      expect: 204,
    });
    await call('POST', '/api/v1/cache/test', '/api/v1/cache/test', { token: adminToken, expect: 200 });
    const audit = (
      await call('GET', '/api/v1/cache/audit', '/api/v1/cache/audit?limit=10', { token: adminToken, expect: 200 })
    ).body;
    const entry = `/api/v1/cache/audit/${audit.items[0].id}`;
    await call('GET', '/api/v1/cache/audit/{id}', entry, { token: adminToken, expect: 200 });
    const unknown = '/api/v1/cache/audit/00000000-0000-4000-8000-000000000000';
    await call('GET', '/api/v1/cache/audit/{id}', unknown, { token: adminToken, expect: 404 });

    // Sessions, then the deletes and logouts that end the tour.
    const sessions = (await call('GET', '/api/v1/auth/sessions', '/api/v1/auth/sessions', { token, expect: 200 })).body;
    const loginAgain = (
      await call('POST', '/api/v1/auth/login', '/api/v1/auth/login', { body: { email, password }, expect: 200 })
    ).body;
    const newest = (await call('GET', '/api/v1/auth/sessions', '/api/v1/auth/sessions', { token, expect: 200 })).body;
    const added = newest.find((s: { id: string }) => !sessions.some((old: { id: string }) => old.id === s.id));
    await call('DELETE', '/api/v1/auth/sessions/{id}', `/api/v1/auth/sessions/${added.id}`, { token, expect: 204 });
    await call('DELETE', '/api/v1/auth/sessions/{id}', `/api/v1/auth/sessions/${added.id}`, { token, expect: 404 });
    await call('GET', '/api/v1/auth/me', '/api/v1/auth/me', { token: loginAgain.accessToken, expect: 401 });
    await call('DELETE', '/api/v1/conversations/{id}', `/api/v1/conversations/${conversation.id}`, {
      token,
      expect: 204,
    });
    await call('DELETE', '/api/v1/boardrooms/{id}', `/api/v1/boardrooms/${room.id}`, { token, expect: 204 });
    await call('DELETE', '/api/v1/users/{id}', `/api/v1/users/${other.id}`, { token, expect: 403 });
    await call('DELETE', '/api/v1/users/{id}', `/api/v1/users/${other.id}`, { token: adminToken, expect: 204 });
    await call('POST', '/api/v1/auth/logout', '/api/v1/auth/logout', { token, expect: 204 });
    await call('GET', '/api/v1/auth/me', '/api/v1/auth/me', { token, expect: 401 });
    await call('POST', '/api/v1/auth/logout-all', '/api/v1/auth/logout-all', { token: adminToken, expect: 204 });

    const all = operations().map(({ method, path }) => `${method} ${path}`);
    expect(all.filter((operation) => !confirmed.has(operation))).toEqual([]);
  });

  // ---- A client generated from the document ----

  const workDir = resolve(__dirname, '../../test-artifacts/openapi-client');

  /** Type-checks `source` against the generated types; the diagnostics, as text. */
  const typeCheck = (name: string, source: string): string[] => {
    const file = resolve(workDir, name);
    writeFileSync(file, source);
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      types: ['node'],
    });
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  };

  const clientSource = (readField: string) => `
import createClient from 'openapi-fetch';
import type { paths } from './schema.js';

const client = createClient<paths>({ baseUrl: process.env.BASE_URL });
const login = await client.POST('/api/v1/auth/login', {
  body: { email: process.env.EMAIL ?? '', password: process.env.PASSWORD ?? '' },
});
if (!login.data) throw new Error('login failed: ' + JSON.stringify(login.error));
const headers = { authorization: 'Bearer ' + login.data.accessToken };
const me = await client.GET('/api/v1/auth/me', { headers });
if (!me.data) throw new Error('me failed');
const user = await client.GET('/api/v1/users/{id}', { params: { path: { id: me.data.id } }, headers });
if (!user.data) throw new Error('user read failed: ' + user.error.message);
const role: 'user' | 'admin' = user.data.role;
console.log(JSON.stringify({ id: user.data.id, email: user.data.${readField}, role }));
`;

  it('generates a client (openapi-typescript) that type-checks, and runs it', async () => {
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(workDir, { recursive: true });
    writeFileSync(resolve(workDir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(resolve(workDir, 'schema.d.ts'), astToString(await openapiTS(document as never)));

    expect(typeCheck('client.ts', clientSource('email'))).toEqual([]);
    // The check can fail: a field the document does not have is an error.
    expect(typeCheck('wrong.ts', clientSource('emailAddress')).join('\n')).toMatch(/emailAddress/);

    const compiled = ts.transpileModule(clientSource('email'), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    }).outputText;
    writeFileSync(resolve(workDir, 'client.mjs'), compiled);
    const email = `client-${randomUUID()}@example.com`;
    const password = 'client-password-1';
    await instance.client.request('POST', '/api/v1/auth/register', { body: { email, password, name: 'Client' } });
    const { stdout } = await promisify(execFile)(process.execPath, [resolve(workDir, 'client.mjs')], {
      env: { ...process.env, NODE_OPTIONS: '', BASE_URL: baseUrl, EMAIL: email, PASSWORD: password },
    });
    expect(JSON.parse(stdout)).toEqual({ id: expect.any(String), email, role: 'user' });
  });
});
