import { createSigner } from 'fast-jwt';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { AppProcess } from '../support/app-process';
import { waitFor } from '../support/free-port';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const ROOT = resolve(__dirname, '../..');
const SECRET = 'request-pipeline-test-secret-0123456789';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  url?: string;
  route?: string;
  statusCode?: number;
  user?: string;
}

/** The compiled app with request logs on: one JSON line per request, credentials redacted, claims checked. */
describe('Request pipeline (compiled app, request logs on)', () => {
  let db: TestDatabase;
  let app: AppProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await AppProcess.start(
      { DATABASE_URL: db.url, HTTP_LOG: 'true', LOG_LEVEL: 'info', JWT_SECRET: SECRET, REDIS_URL: '' },
      ROOT,
    );
  });

  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  const lines = (): LogLine[] =>
    app.output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  const requestLine = async (reqId: string): Promise<LogLine> => {
    let found: LogLine | undefined;
    // Lines are written in batches (at most 50 ms late).
    await waitFor(() => !!(found = lines().find((l) => l.reqId === reqId)), 5_000, `the log line of ${reqId}`);
    return found!;
  };
  const fetchWithId = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${app.baseUrl}${path}`, { headers });
    return { res, id: res.headers.get('x-request-id')!, body: await res.text() };
  };

  it('writes one line per request with its request id, route pattern, status and caller', async () => {
    const { id } = await fetchWithId('/api/v1/ping', { 'x-request-id': 'trace-pipeline-1' });
    expect(id).toBe('trace-pipeline-1');
    const line = await requestLine(id);
    expect(line).toMatchObject({ level: 30, msg: 'request completed', route: '/api/v1/ping', statusCode: 200 });
    expect(lines().filter((l) => l.reqId === id)).toHaveLength(1);
  });

  it('redacts credentials in logged URLs, and a 404 body does not echo the query string', async () => {
    const { res, id, body } = await fetchWithId('/api/v1/nowhere?access_token=SECRET-TOKEN-42&page=2');
    expect(res.status).toBe(404);
    expect(body).not.toContain('SECRET-TOKEN-42');
    expect(JSON.parse(body)).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot GET /api/v1/nowhere' });
    const line = await requestLine(id);
    expect(line.url).toBe('/api/v1/nowhere?access_token=[redacted]&page=2');
    expect(app.output).not.toContain('SECRET-TOKEN-42');
  });

  it('answers 405 with Allow for a method the path is not routed for, without echoing the query', async () => {
    const cases = [
      ['PUT', '/api/v1/ping?access_token=SECRET-TOKEN-43', 'GET, HEAD, POST', 'PUT is not allowed on /api/v1/ping'],
      ['GET', '/api/v1/auth/login', 'POST', 'GET is not allowed on /api/v1/auth/login'],
      ['PUT', `/api/v1/users/${randomUUID()}`, 'GET, HEAD, PATCH, DELETE', undefined],
      ['PATCH', '/health/live', 'GET, HEAD', 'PATCH is not allowed on /health/live'],
    ] as const;
    for (const [method, path, allow, message] of cases) {
      const res = await fetch(`${app.baseUrl}${path}`, { method });
      const body = await res.json();
      expect([method, path, res.status, res.headers.get('allow'), body.error]).toEqual([
        method,
        path,
        405,
        allow,
        'Method Not Allowed',
      ]);
      if (message) expect(body.message).toBe(message);
    }
    // A path no method is routed for stays a 404.
    expect((await fetch(`${app.baseUrl}/api/v1/nowhere`, { method: 'PUT' })).status).toBe(404);
  });

  it('answers 401, not 500, for a validly signed token whose claims are malformed', async () => {
    const sign = createSigner({ key: SECRET, expiresIn: 60_000 });
    const claims = { sid: randomUUID(), jti: randomUUID(), role: 'user' };
    for (const sub of ['not-a-uuid', "1' OR '1'='1", randomUUID().toUpperCase() + 'x']) {
      const res = await app.send('GET', '/api/v1/auth/me', { token: sign({ ...claims, sub }) });
      expect({ sub, status: res.status }).toEqual({ sub, status: 401 });
    }
    const unknownRole = await app.send('GET', '/api/v1/ping/auth', {
      token: sign({ ...claims, sub: randomUUID(), role: 'root' }),
    });
    expect(unknownRole.status).toBe(401);
  });

  it('serves the authenticated constant route and /auth/me (a cached read of the caller)', async () => {
    const email = `p${randomUUID().slice(0, 8)}@example.com`;
    const password = 'pipeline-password-1';
    expect((await app.send('POST', '/api/v1/auth/register', { body: { email, password, name: 'P' } })).status).toBe(
      201,
    );
    const { body } = await app.send('POST', '/api/v1/auth/login', { body: { email, password } });
    const token = body.accessToken as string;
    const ping = await app.send('GET', '/api/v1/ping/auth', { token });
    expect(ping.status).toBe(200);
    expect(ping.body).toEqual({ pong: true });
    const me = await app.send('GET', '/api/v1/auth/me', { token });
    expect(me).toMatchObject({ status: 200, body: { email, name: 'P', role: 'user' } });
    // Without a token, the authenticated route is 401.
    expect((await app.send('GET', '/api/v1/ping/auth')).status).toBe(401);
  });

  it('logs the 504 a client asked for (only-if-cached, nothing stored) as no failure, and redacts a token in a path', async () => {
    const email = `q${randomUUID().slice(0, 8)}@example.com`;
    const password = 'pipeline-password-2';
    await app.send('POST', '/api/v1/auth/register', { body: { email, password, name: 'Q' } });
    const token = (await app.send('POST', '/api/v1/auth/login', { body: { email, password } })).body
      .accessToken as string;
    const authorization = `Bearer ${token}`;
    const unstored = await fetchWithId('/api/v1/users?page=7', { authorization, 'cache-control': 'only-if-cached' });
    expect(unstored.res.status).toBe(504);
    expect(await requestLine(unstored.id)).toMatchObject({ level: 30, msg: 'request completed', statusCode: 504 });
    const inPath = await fetchWithId(`/api/v1/users/${token}`, { authorization });
    expect(inPath.res.status).toBe(400);
    expect((await requestLine(inPath.id)).url).toBe('/api/v1/users/[redacted]');
    expect(app.output).not.toContain(token);
  });

  // The headers helmet sets for documents only (an API response that carried them would pay for nothing).
  const DOCUMENT_ONLY = [
    'cross-origin-opener-policy',
    'origin-agent-cluster',
    'x-dns-prefetch-control',
    'x-download-options',
    'x-permitted-cross-domain-policies',
    'x-xss-protection',
  ];

  it('gives JSON responses, errors and 404s the API set of security headers, and the pages the full set', async () => {
    for (const path of ['/api/v1/ping', '/api/v1/ping/auth', '/api/v1/nowhere']) {
      const { res } = await fetchWithId(path);
      const headers = Object.fromEntries(res.headers);
      expect({ path, ...headers }).toMatchObject({
        path,
        'content-security-policy': "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
        'cross-origin-resource-policy': 'same-origin',
        'referrer-policy': 'no-referrer',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
      });
      for (const name of DOCUMENT_ONLY) expect({ path, [name]: headers[name] }).toEqual({ path });
    }
    for (const path of ['/docs', '/admin']) {
      const { res } = await fetchWithId(path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('content-security-policy')).not.toBe(
        "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
      );
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      for (const name of DOCUMENT_ONLY)
        expect({ path, [name]: res.headers.get(name) }).toEqual({ path, [name]: expect.any(String) });
    }
  });
});
