import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CacheService } from '@app/cache';
import { CacheMetricsBridge } from '@app/metrics';
import { startE2eApp, type E2eApp } from '../../../test/support/e2e-app';

/** The route label values of `http_request_duration_seconds` in a Prometheus text dump. */
function routeLabels(metrics: string): Set<string> {
  const routes = new Set<string>();
  for (const match of metrics.matchAll(/^http_request_duration_seconds_count\{[^}]*route="([^"]*)"/gm))
    routes.add(match[1]);
  return routes;
}

describe('HTTP foundation (e2e)', () => {
  let started: E2eApp | undefined;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    started = await startE2eApp({ BODY_LIMIT: '2048' });
    app = started.app;
  });

  afterAll(async () => {
    await started?.close();
  });

  const inject = (options: Parameters<NestFastifyApplication['inject']>[0]) => app.inject(options);

  it('answers GET /api/v1/ping without touching the database or cache', async () => {
    const res = await inject({ method: 'GET', url: '/api/v1/ping' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ pong: true });
  });

  it('returns a request id, reusing a well-formed incoming one', async () => {
    const minted = await inject({ method: 'GET', url: '/api/v1/ping' });
    expect(minted.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const reused = await inject({ method: 'GET', url: '/api/v1/ping', headers: { 'x-request-id': 'trace-42' } });
    expect(reused.headers['x-request-id']).toBe('trace-42');
    const refused = await inject({ method: 'GET', url: '/api/v1/ping', headers: { 'x-request-id': 'bad id\u0001' } });
    expect(refused.headers['x-request-id']).not.toBe('bad id\u0001');
  });

  it('maps an unknown route to a 404 JSON error', async () => {
    const res = await inject({ method: 'GET', url: '/api/v1/nowhere' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot GET /api/v1/nowhere' });
  });

  it('maps malformed JSON to 400 without internals', async () => {
    const res = await inject({
      method: 'POST',
      url: '/api/v1/ping',
      headers: { 'content-type': 'application/json' },
      payload: '{"message": ',
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(Object.keys(body).sort()).toEqual(['error', 'message', 'statusCode']);
    expect(res.body).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('refuses a body over the configured limit with 413', async () => {
    const res = await inject({
      method: 'POST',
      url: '/api/v1/ping',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ message: 'x'.repeat(4096) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'Request body is too large' });
  });

  it('validates bodies: wrong types and unknown fields are 400', async () => {
    const post = (payload: unknown) => inject({ method: 'POST', url: '/api/v1/ping', payload: payload as object });
    expect((await post({ message: 'hi' })).json()).toEqual({ pong: true, message: 'hi' });
    const wrongType = await post({ message: 42 });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().message).toEqual(expect.arrayContaining(['message must be a string']));
    const unknownField = await post({ message: 'hi', role: 'admin' });
    expect(unknownField.statusCode).toBe(400);
    expect(unknownField.json().message).toEqual(['property role should not exist']);
  });

  it('serves the health probes outside the /api/v1 prefix', async () => {
    const live = await inject({ method: 'GET', url: '/health/live' });
    expect(live.statusCode).toBe(200);
    const ready = await inject({ method: 'GET', url: '/health/ready' });
    // Status and body in one assertion, so that a failure says which check was down.
    expect({ status: ready.statusCode, details: ready.json().details }).toMatchObject({
      status: 200,
      details: { database: { status: 'up' }, redis: { status: 'disabled', enabled: false } },
    });
    expect(ready.json()).toMatchObject({ status: 'ok', error: {}, info: { redis: { status: 'disabled' } } });
  });

  it('reports Redis as disabled, not up, when none is configured (and that is no failure)', async () => {
    const redis = await inject({ method: 'GET', url: '/health/redis' });
    expect({ status: redis.statusCode, body: redis.json() }).toEqual({
      status: 200,
      body: {
        status: 'ok',
        info: { redis: { status: 'disabled', enabled: false, message: 'Redis is not configured: memory cache only' } },
        error: {},
        details: {
          redis: { status: 'disabled', enabled: false, message: 'Redis is not configured: memory cache only' },
        },
      },
    });
  });

  it('exports route-pattern HTTP metrics and the default process metrics', async () => {
    await inject({ method: 'GET', url: '/api/v1/ping' });
    const res = await inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(
      /^http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/ping",status_code="200"\} \d+/m,
    );
    expect(res.body).toMatch(/^process_cpu_user_seconds_total /m);
    expect(res.body).toMatch(/^nodejs_eventloop_lag_seconds /m);
    for (const name of [
      'cache_hits_total',
      'cache_misses_total',
      'cache_operation_duration_seconds',
      'cache_memory_usage_bytes',
      'cache_hit_ratio',
    ]) {
      expect(res.body).toContain(`# TYPE ${name} `);
    }
  });

  it("exports the cache's hits, misses, durations and gauges", async () => {
    const cache = app.get(CacheService).namespace('e2e');
    await cache.getOrSet('k', () => 'v'); // L1 miss, then loaded
    await cache.get('k'); // L1 hit
    app.get(CacheMetricsBridge).refresh();
    const body = (await inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).toMatch(/^cache_hits_total\{namespace="e2e",layer="l1"\} 1$/m);
    expect(body).toMatch(/^cache_misses_total\{namespace="e2e",layer="l1"\} 1$/m);
    expect(body).toMatch(/^cache_operation_duration_seconds_count\{operation="load",layer="loader"\} 1$/m);
    expect(body).toMatch(/^cache_hit_ratio\{namespace="e2e",layer="l1"\} 0\.5$/m);
    expect(body).toMatch(/^cache_memory_usage_bytes\{layer="l1"\} [1-9]\d*$/m);
  });

  it('adds no label values for 1,000 distinct unknown URLs', async () => {
    await inject({ method: 'GET', url: '/not-a-route-warmup' });
    const before = routeLabels((await inject({ method: 'GET', url: '/metrics' })).body);
    for (let i = 0; i < 1_000; i++) {
      const res = await inject({ method: 'GET', url: `/api/v1/unknown/${i}?q=${i}` });
      expect(res.statusCode).toBe(404);
    }
    const after = routeLabels((await inject({ method: 'GET', url: '/metrics' })).body);
    expect(after).toEqual(before);
    expect(after.has('UNMATCHED')).toBe(true);
    expect([...after].some((r) => r.includes('unknown'))).toBe(false);
  });

  it('serves the OpenAPI document and UI at /docs', async () => {
    const ui = await inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/html/);
    const spec = await inject({ method: 'GET', url: '/docs-json' });
    expect(Object.keys(spec.json().paths)).toEqual(expect.arrayContaining(['/api/v1/ping', '/health/ready']));
  });
});
