import 'reflect-metadata';
import {
  Controller,
  Get,
  HttpException,
  Module,
  NotFoundException,
  Param,
  Query,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CacheModule, CacheService } from '@app/cache';
import { HttpCache, HttpCacheInterceptor, HttpCacheModule, HttpCacheStats, NoHttpCache } from '@app/http-cache';

/** What the handlers do, set by each test. */
const state = {
  runs: new Map<string, number>(),
  fail: undefined as undefined | (() => never),
  gate: undefined as undefined | Promise<void>,
};
function ran(name: string): void {
  state.runs.set(name, (state.runs.get(name) ?? 0) + 1);
}
const runs = (name: string) => state.runs.get(name) ?? 0;

@Controller()
@HttpCache({ ttl: 60_000 })
class ProbeController {
  @Get('user')
  user(@Query('n') n?: string) {
    ran('user');
    return { n: n ?? null, at: runs('user') };
  }

  @Get('shared')
  @HttpCache({ scope: 'shared' })
  shared() {
    ran('shared');
    return { at: runs('shared') };
  }

  @Get('same')
  @HttpCache({ scope: 'shared' })
  same() {
    ran('same');
    return { same: true };
  }

  @Get('item/:id')
  @HttpCache({ scope: 'shared' })
  item(@Param('id') id: string) {
    ran('item');
    return { id: id.toLowerCase() };
  }

  @Get('vary')
  @HttpCache({ scope: 'shared', vary: ['accept-language'] })
  vary(@Res({ passthrough: true }) reply: FastifyReply) {
    ran('vary');
    reply.header('content-language', 'xx');
    return { at: runs('vary') };
  }

  @Get('cookie')
  cookie(@Res({ passthrough: true }) reply: FastifyReply) {
    ran('cookie');
    reply.header('set-cookie', 'session=secret; HttpOnly');
    return { at: runs('cookie') };
  }

  @Get('no-store')
  noStore(@Res({ passthrough: true }) reply: FastifyReply) {
    ran('no-store');
    reply.header('cache-control', 'no-store');
    return { at: runs('no-store') };
  }

  @Get('text')
  text(@Res({ passthrough: true }) reply: FastifyReply) {
    ran('text');
    reply.header('x-built-by', 'handler');
    return `plain ${runs('text')}`;
  }

  @Get('missing/:id')
  missing(@Param('id') id: string) {
    ran('missing');
    throw new NotFoundException(`no ${id}`);
  }

  @Get('slow')
  async slow() {
    ran('slow');
    await state.gate;
    return { at: runs('slow') };
  }

  @Get('flaky')
  @HttpCache({ ttl: 100, grace: 60_000 })
  flaky() {
    ran('flaky');
    state.fail?.();
    return { at: runs('flaky') };
  }

  @Get('off')
  @NoHttpCache()
  off() {
    ran('off');
    return { at: runs('off') };
  }
}

@Module({
  imports: [
    CacheModule.forRoot({ backend: 'memory' }),
    HttpCacheModule.forRoot({
      ttl: 60_000,
      identity: (request: FastifyRequest) => request.headers['x-user'] as string | undefined,
      // As the app does for UUIDs: the route reads its parameter in lower case.
      canonicalParam: (name: string, value: string) => (name === 'id' ? value.toLowerCase() : value),
    }),
  ],
  controllers: [ProbeController],
  providers: [{ provide: APP_INTERCEPTOR, useExisting: HttpCacheInterceptor }],
})
class ProbeModule {}

describe(HttpCacheInterceptor.name, () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(ProbeModule, new FastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(() => app?.close());

  beforeEach(async () => {
    state.runs.clear();
    state.fail = undefined;
    state.gate = undefined;
    await app.get(CacheService).clearNamespace('http');
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, headers: { 'x-user': 'alice', ...headers } });

  it('keys a user-scoped route by the caller: one caller never gets another one’s response', async () => {
    const alice = await get('/user');
    const bob = await get('/user', { 'x-user': 'bob' });
    expect(alice.headers['x-cache']).toBe('MISS');
    expect(bob.headers['x-cache']).toBe('MISS');
    expect(runs('user')).toBe(2);
    expect((await get('/user')).body).toBe(alice.body);
    expect((await get('/user', { 'x-user': 'bob' })).body).toBe(bob.body);
    expect(alice.headers.vary).toBe('Authorization');
    expect(alice.headers['cache-control']).toBe('private, no-cache');
  });

  it('shares a shared route across callers, sorts the query, and keeps repeated values in order', async () => {
    await get('/shared');
    const other = await get('/shared', { 'x-user': 'bob' });
    expect(other.headers['x-cache']).toBe('HIT');
    expect(other.headers.vary).toBeUndefined();
    expect(other.headers['cache-control']).toBe('no-cache');
    expect(runs('shared')).toBe(1);

    await get('/user?n=1&b=2');
    expect((await get('/user?b=2&n=1')).headers['x-cache']).toBe('HIT');
    await get('/user?n=1&n=2');
    expect((await get('/user?n=2&n=1')).headers['x-cache']).toBe('MISS');
  });

  it('selects the entry by the declared vary headers and replays the headers the handler set', async () => {
    const en = await get('/vary', { 'accept-language': 'en' });
    const fr = await get('/vary', { 'accept-language': 'fr' });
    expect(fr.headers['x-cache']).toBe('MISS');
    const again = await get('/vary', { 'accept-language': 'en' });
    expect(again.headers['x-cache']).toBe('HIT');
    expect(again.body).toBe(en.body);
    expect(again.headers['content-language']).toBe('xx');
    expect(again.headers.vary).toBe('accept-language');
  });

  it('stores strings with their type and the handler’s headers', async () => {
    const first = await get('/text');
    const hit = await get('/text');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.body).toBe(first.body);
    expect(hit.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(hit.headers['x-built-by']).toBe('handler');
  });

  it('never stores a response that sets a cookie or says no-store, nor an error', async () => {
    for (let i = 0; i < 2; i++) {
      const cookie = await get('/cookie');
      expect(cookie.headers['x-cache']).toBe('BYPASS');
      expect(cookie.headers['set-cookie']).toBeDefined();
      const noStore = await get('/no-store');
      expect(noStore.headers['x-cache']).toBe('BYPASS');
      expect(noStore.headers['cache-control']).toBe('no-store');
      const missing = await get('/missing/x');
      expect(missing.statusCode).toBe(404);
      expect(missing.headers['x-cache']).toBeUndefined();
    }
    expect([runs('cookie'), runs('no-store'), runs('missing')]).toEqual([2, 2, 2]);
    const stats = app.get(HttpCacheStats);
    expect(stats.unstored.cookie).toBeGreaterThanOrEqual(2);
    expect(stats.unstored['cache-control']).toBeGreaterThanOrEqual(2);
  });

  it('honours the request directives: no-store and no-cache bypass, max-age, only-if-cached', async () => {
    expect((await get('/user', { 'cache-control': 'no-store' })).headers['x-cache']).toBe('BYPASS');
    expect((await get('/user')).headers['x-cache']).toBe('MISS'); // the no-store response was not stored
    expect((await get('/user', { 'cache-control': 'no-cache' })).headers['x-cache']).toBe('BYPASS');
    expect((await get('/user', { pragma: 'no-cache' })).headers['x-cache']).toBe('BYPASS');
    expect((await get('/user', { 'cache-control': 'max-age=3600' })).headers['x-cache']).toBe('HIT');
    expect(runs('user')).toBe(4);

    const cold = await get('/shared', { 'cache-control': 'only-if-cached' });
    expect(cold.statusCode).toBe(504);
    expect(runs('shared')).toBe(0);
    await get('/shared');
    expect((await get('/shared', { 'cache-control': 'only-if-cached' })).headers['x-cache']).toBe('HIT');
  });

  it('never runs the handler for only-if-cached, whatever else the header says', async () => {
    await get('/shared');
    const before = runs('shared');
    for (const header of ['only-if-cached, no-cache', 'max-age=0, only-if-cached']) {
      expect((await get('/shared', { 'cache-control': header })).statusCode).toBe(504);
    }
    // no-store forbids storing, which serving a stored response does not do.
    for (const header of ['only-if-cached, max-age=3600', 'no-store, only-if-cached']) {
      expect((await get('/shared', { 'cache-control': header })).headers['x-cache']).toBe('HIT');
    }
    expect(runs('shared')).toBe(before);
  });

  it('gives a bypassed response its ETag and answers a matching If-None-Match with 304 (a reload)', async () => {
    const first = await get('/same');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"/);
    for (const header of ['max-age=0', 'no-cache', 'no-store']) {
      const reload = await get('/same', { 'cache-control': header, 'if-none-match': etag });
      expect([reload.statusCode, reload.headers['x-cache'], reload.headers.etag, reload.body]).toEqual([
        304,
        'BYPASS',
        etag,
        '',
      ]);
    }
    const full = await get('/same', { 'cache-control': 'no-cache', 'if-none-match': '"other"' });
    expect([full.statusCode, full.headers.etag, full.body]).toEqual([200, etag, '{"same":true}']);
    expect(runs('same')).toBe(5); // the handler answered each bypass
  });

  it('keys a path parameter as the route reads it (canonicalParam): two spellings share one entry', async () => {
    const id = 'ABCDEF-Item';
    expect((await get(`/item/${id}`)).headers['x-cache']).toBe('MISS');
    expect((await get(`/item/${id.toLowerCase()}`)).headers['x-cache']).toBe('HIT');
    expect((await get(`/item/abcdef-ITEM`)).body).toBe('{"id":"abcdef-item"}');
    expect(runs('item')).toBe(1);
  });

  it('answers 304 for a matching If-None-Match (weak comparison, lists, *) and the body otherwise', async () => {
    const first = await get('/shared');
    const etag = first.headers.etag as string;
    for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const res = await get('/shared', { 'if-none-match': header });
      expect(res.statusCode).toBe(304);
      expect(res.body).toBe('');
      expect(res.headers.etag).toBe(etag);
    }
    for (const header of ['"nope"', 'garbage', `${etag.slice(0, -2)}"`]) {
      expect((await get('/shared', { 'if-none-match': header })).statusCode).toBe(200);
    }
    expect(app.get(HttpCacheStats).notModified).toBeGreaterThanOrEqual(4);
  });

  it('runs the handler once for 1,000 concurrent cold requests', async () => {
    let open!: () => void;
    state.gate = new Promise<void>((resolve) => (open = resolve));
    const all = Array.from({ length: 1_000 }, () => get('/slow'));
    setTimeout(() => open(), 50);
    const responses = await Promise.all(all);
    expect(runs('slow')).toBe(1);
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);
    expect(responses.filter((r) => r.headers['x-cache'] === 'MISS')).toHaveLength(1);
  });

  it('serves a stale response inside grace when the handler fails with a 5xx, never for a 4xx', async () => {
    const fresh = await get('/flaky');
    await new Promise((r) => setTimeout(r, 150));
    state.fail = () => {
      throw new ServiceUnavailableException('database down');
    };
    const stale = await get('/flaky');
    expect(stale.statusCode).toBe(200);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.body).toBe(fresh.body);
    state.fail = () => {
      throw new HttpException('gone', 410);
    };
    expect((await get('/flaky')).statusCode).toBe(410);
  });

  it('leaves @NoHttpCache routes alone', async () => {
    const res = await get('/off');
    expect(res.headers['x-cache']).toBeUndefined();
    await get('/off');
    expect(runs('off')).toBe(2);
  });
});
