import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { AppProcess } from '../support/app-process';
import { waitFor } from '../support/free-port';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const ROOT = resolve(__dirname, '../..');
/** Generous bounds: liveness, not speed. */
const ANSWER_WITHIN_MS = 5_000;
const LIVE_WITHIN_MS = 1_000;
/** Short timeouts, so the slow-client cases finish in seconds. */
const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_000;
const KEEP_ALIVE_TIMEOUT_MS = 1_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A second client polling `/health/live` while an attack runs; `stop()` returns the slowest answer. */
function watchLiveness(baseUrl: string): { stop(): Promise<{ slowestMs: number; failures: number; polls: number }> } {
  let running = true;
  let slowestMs = 0;
  let failures = 0;
  let polls = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(`${baseUrl}/health/live`, { signal: AbortSignal.timeout(10_000) });
        await res.text();
        if (!res.ok) failures++;
      } catch {
        failures++;
      }
      polls++;
      slowestMs = Math.max(slowestMs, performance.now() - started);
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { slowestMs, failures, polls };
    },
  };
}

/** Raw bytes over `node:net`: what the socket received until the server closed it, and when. */
function rawExchange(
  port: number,
  drive: (socket: Socket) => void | Promise<void>,
): Promise<{ received: string; closedAfterMs: number }> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    let received = '';
    const socket = connect(port, '127.0.0.1', () => {
      Promise.resolve(drive(socket)).catch(() => undefined);
    });
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolvePromise({ received, closedAfterMs: performance.now() - started }));
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server had not closed the connection after 20 s; received: ${received}`));
    }, 20_000).unref();
  });
}

/**
 * Hostile request bodies and slow clients against the compiled app: each gets
 * a 4xx quickly, and `/health/live` keeps answering while it is handled.
 */
describe('Hostile input (compiled app)', () => {
  let db: TestDatabase;
  let app: AppProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await AppProcess.start(
      {
        DATABASE_URL: db.url,
        REDIS_URL: '',
        CACHE_BACKEND: 'memory',
        LOG_LEVEL: 'debug',
        THROTTLE_AUTH_LIMIT: '1000',
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
      },
      ROOT,
    );
  });

  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  /** POSTs a raw body while a second client watches liveness; asserts both bounds. */
  async function attack(
    method: string,
    path: string,
    body: string,
    headers: Record<string, string> = { 'content-type': 'application/json' },
  ): Promise<{ status: number; text: string }> {
    const watcher = watchLiveness(app.baseUrl);
    await sleep(100);
    const started = performance.now();
    const res = await fetch(`${app.baseUrl}${path}`, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    const elapsed = performance.now() - started;
    await sleep(100);
    const live = await watcher.stop();
    expect({ path, elapsedUnderBound: elapsed < ANSWER_WITHIN_MS }).toEqual({ path, elapsedUnderBound: true });
    expect(live.failures).toBe(0);
    expect(live.polls).toBeGreaterThan(1);
    expect(live.slowestMs).toBeLessThan(LIVE_WITHIN_MS);
    return { status: res.status, text };
  }

  const BODY_ROUTES = ['/api/v1/ping', '/api/v1/auth/login', '/api/v1/auth/register', '/api/v1/auth/refresh'];

  it.each(BODY_ROUTES)('answers 90,000 unknown properties on %s with a short 413 at once', async (path) => {
    const many: Record<string, number> = { message: 1 };
    for (let i = 0; i < 90_000; i++) many[`k${i}`] = 0;
    const payload = JSON.stringify(many);
    // Under BODY_LIMIT (1 MiB): the structure, not the size, is what is refused.
    expect(payload.length).toBeGreaterThan(900_000);
    expect(payload.length).toBeLessThan(1024 * 1024);
    const { status, text } = await attack('POST', path, payload);
    expect(status).toBe(413);
    expect(text.length).toBeLessThan(500);
    expect(JSON.parse(text)).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'An object in the request body has more than 200 properties',
    });
  });

  it('lists at most ten messages for a body of many unknown properties under the limits', async () => {
    const some: Record<string, number> = {};
    for (let i = 0; i < 150; i++) some[`k${i}`] = i;
    const { status, text } = await attack('POST', '/api/v1/auth/login', JSON.stringify(some));
    expect(status).toBe(400);
    const { message } = JSON.parse(text) as { message: string[] };
    expect(message).toHaveLength(11);
    expect(message.at(-1)).toMatch(/^and \d+ more errors$/);
  });

  it.each(BODY_ROUTES)('answers an array nested 2,000 deep on %s with 400, not 500', async (path) => {
    const { status, text } = await attack('POST', path, '['.repeat(2_000) + ']'.repeat(2_000));
    expect(status).toBe(400);
    expect(JSON.parse(text).message).toBe('The request body is nested deeper than 20 levels');
  });

  describe('a lone UTF-16 surrogate in an email', () => {
    // The JSON escape itself, as a client would send it: JSON.stringify would write it the same way.
    const email = String.raw`a\ud800@example.com`;

    it.each(['/api/v1/auth/login', '/api/v1/auth/register'])('is a 400 on %s, not 500', async (path) => {
      const body = `{"email":"${email}","password":"correct horse battery","name":"Eve"}`;
      const { status, text } = await attack('POST', path, body);
      expect(status).toBe(400);
      expect(JSON.parse(text).message).toMatch(/not well-formed Unicode/);
    });

    it('is a 400 on PATCH /api/v1/users/:id for the signed-in owner, and the email is unchanged', async () => {
      const address = `u${randomBytes(5).toString('hex')}@example.com`;
      const password = 'correct horse battery';
      const registered = await app.send('POST', '/api/v1/auth/register', {
        body: { email: address, password, name: 'Owner' },
      });
      expect(registered.status).toBe(201);
      const login = await app.send('POST', '/api/v1/auth/login', { body: { email: address, password } });
      expect(login.status).toBe(200);
      const { id } = registered.body as { id: string };
      const { accessToken } = login.body as { accessToken: string };
      const { status } = await attack('PATCH', `/api/v1/users/${id}`, `{"email":"${email}"}`, {
        'content-type': 'application/json',
        authorization: `Bearer ${accessToken}`,
      });
      expect(status).toBe(400);
      const me = await app.send('GET', '/api/v1/auth/me', { token: accessToken });
      expect(me.body).toMatchObject({ id, email: address });
    });
  });

  it.each([
    ['text/plain', 'hello'],
    ['application/x-www-form-urlencoded', 'message=hello'],
  ])('answers a %s body with 415', async (type, body) => {
    const { status, text } = await attack('POST', '/api/v1/ping', body, { 'content-type': type });
    expect(status).toBe(415);
    expect(JSON.parse(text)).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type' });
  });

  describe('slow clients', () => {
    const head = (length: number) =>
      `POST /api/v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

    it('closes a request whose body never finishes with 408 after the request timeout', async () => {
      const watcher = watchLiveness(app.baseUrl);
      const { received, closedAfterMs } = await rawExchange(app.port, (socket) => {
        socket.write(head(100) + '{"message":');
      });
      const live = await watcher.stop();
      expect(received).toMatch(/^HTTP\/1\.1 408 /);
      // Written by Node's HTTP server path, yet with the API's error body and the security headers.
      expect(received.toLowerCase()).toContain('\r\nx-content-type-options: nosniff\r\n');
      expect(received.toLowerCase()).toContain("\r\ncontent-security-policy: default-src 'none'");
      expect(JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4))).toEqual({
        statusCode: 408,
        error: 'Request Timeout',
        message: 'The request did not arrive within the request timeout',
      });
      expect(closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      expect(closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + ANSWER_WITHIN_MS);
      expect(live).toMatchObject({ failures: 0 });
      expect(live.slowestMs).toBeLessThan(LIVE_WITHIN_MS);
    });

    it('closes a body trickled a byte at a time with 408: activity does not extend the deadline', async () => {
      let sent = 0;
      const { received, closedAfterMs } = await rawExchange(app.port, async (socket) => {
        socket.write(head(1_000));
        while (!socket.destroyed && sent < 100) {
          socket.write(' ');
          sent++;
          await sleep(200);
        }
      });
      expect(received).toMatch(/^HTTP\/1\.1 408 /);
      expect(sent).toBeGreaterThan(3);
      expect(closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + ANSWER_WITHIN_MS);
    });

    it('closes a connection whose headers never finish with 408 after the headers timeout', async () => {
      const { received, closedAfterMs } = await rawExchange(app.port, async (socket) => {
        socket.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n');
        for (let i = 0; i < 50 && !socket.destroyed; i++) {
          socket.write(`X-Slow-${i}: 1\r\n`);
          await sleep(100);
        }
      });
      expect(received).toMatch(/^HTTP\/1\.1 408 /);
      expect(closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + ANSWER_WITHIN_MS);
    });

    it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
      const { received, closedAfterMs } = await rawExchange(app.port, (socket) => {
        socket.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      });
      expect(received).toMatch(/^HTTP\/1\.1 200 /);
      expect(closedAfterMs).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - 100);
      expect(closedAfterMs).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + ANSWER_WITHIN_MS);
    });
  });

  it('logs a client that aborts mid-body as a client abort, not as the database being unavailable', async () => {
    const before = app.output.length;
    await rawExchange(app.port, async (socket) => {
      socket.write(head100());
      await sleep(200);
      socket.destroy();
    });
    await waitFor(() => app.output.includes('aborted the request', before), 5_000, 'the client-abort log line');
    const lines = app.output.slice(before);
    expect(lines).not.toContain('database unavailable');
    const ready = await app.get('/health/ready');
    expect(ready.status).toBe(200);
    const metrics = await app.get('/metrics');
    expect(metrics.body).not.toMatch(/http_request_duration_seconds_count\{[^}]*status_code="5\d\d"/);
  });
});

function head100(): string {
  return 'POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":';
}
