import { AsyncLocalStorage } from 'node:async_hooks';
import { Test } from '@nestjs/testing';
import type { LoggerService } from '@nestjs/common';
import { RedisConnection, RedisModule } from '@app/redis';
import { createCacheInstance, uniquePrefix } from '../support/cache-instance';
import { waitFor } from '../support/free-port';
import { TestRedisServer } from '../support/redis-server';

/** What an AsyncLocalStorage-based logger (nestjs-pino, OpenTelemetry) would stamp on a line. */
const requestContext = new AsyncLocalStorage<{ reqId: string }>();

/** Records each message with the request id the logger would see when it is written. */
class ContextLogger implements LoggerService {
  readonly lines: Array<{ msg: string; reqId: string | undefined }> = [];
  log = (msg: unknown) => this.note(msg);
  warn = (msg: unknown) => this.note(msg);
  error = (msg: unknown) => this.note(msg);
  debug = (msg: unknown) => this.note(msg);
  verbose = (msg: unknown) => this.note(msg);
  private note(msg: unknown): void {
    this.lines.push({ msg: String(msg), reqId: requestContext.getStore()?.reqId });
  }
}

/**
 * The breakers' probes and state events are background work: the request
 * whose call trips a breaker must not lend them its async context (a timer
 * keeps the context it was created in), or every "breaker closed" line of an
 * AsyncLocalStorage-based logger carries that unrelated request's id.
 */
describe('Background work of the Redis breakers', () => {
  let server: TestRedisServer;

  beforeAll(async () => {
    server = await TestRedisServer.start();
  });

  afterAll(async () => {
    server?.resume();
    await server?.stop();
  });

  /** Runs `calls` failing Redis calls inside a request's context while the server is paused. */
  async function tripInsideRequest(call: () => Promise<unknown>, calls: number): Promise<void> {
    server.pause();
    try {
      await requestContext.run({ reqId: 'tripping-request' }, async () => {
        for (let i = 0; i < calls; i++) await call().catch(() => undefined);
      });
    } finally {
      server.resume();
    }
  }

  it('RedisConnection: the down and ready events and the probe run outside the tripping request', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ url: server.url, commandTimeoutMs: 150, breakerThreshold: 3, probeIntervalMs: 50 }),
      ],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    const redis = moduleRef.get(RedisConnection);
    try {
      const events: string[] = [];
      redis.onStateChange((event) => events.push(`${event} in ${requestContext.getStore()?.reqId ?? 'no request'}`));
      await tripInsideRequest(() => redis.run((c) => c.get('k')), 3);
      expect(redis.available).toBe(false);
      await waitFor(() => redis.available, 5_000, 'the probe to close the breaker');
      expect(events).toEqual(['down in no request', 'ready in no request']);
    } finally {
      await moduleRef.close();
    }
  });

  it('TieredCache: the "breaker closed" line carries no request id', async () => {
    const instance = await createCacheInstance(server.url, { prefix: uniquePrefix(), breakerThreshold: 3 });
    const logger = new ContextLogger();
    instance.moduleRef.useLogger(logger);
    try {
      const ns = instance.cache.namespace('ctx');
      await tripInsideRequest(() => ns.get('k'), 4);
      await waitFor(() => instance.cache.status().usingRedis, 5_000, 'the breaker to close');
      await waitFor(
        () => logger.lines.some((l) => l.msg === 'Redis back: breaker closed'),
        5_000,
        'the breaker-closed line',
      );
      const breakerLines = logger.lines.filter((l) => /breaker|PING|answers again/.test(l.msg));
      expect(breakerLines.length).toBeGreaterThanOrEqual(2);
      expect(breakerLines).toEqual(breakerLines.map((l) => ({ msg: l.msg, reqId: undefined })));
    } finally {
      instance.moduleRef.useLogger(false);
      await instance.close();
    }
  });
});
