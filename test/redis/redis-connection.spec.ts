import { Test } from '@nestjs/testing';
import { createClient } from '@redis/client';
import {
  RedisConnection,
  RedisModule,
  RedisTimeoutError,
  RedisUnavailableError,
  type RedisModuleOptions,
} from '@app/redis';
import { freePort, waitFor } from '../support/free-port';
import { TestRedisServer } from '../support/redis-server';

async function connection(options: RedisModuleOptions) {
  const moduleRef = await Test.createTestingModule({ imports: [RedisModule.forRoot(options)] }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return { moduleRef, redis: moduleRef.get(RedisConnection) };
}

/** Names of the clients connected to `server`, seen from an independent connection. */
async function clientNames(server: TestRedisServer): Promise<string[]> {
  const observer = createClient({ url: server.url });
  await observer.connect();
  try {
    const list = await observer.clientList();
    return list.map((c) => c.name).filter((n) => n !== '');
  } finally {
    observer.destroy();
  }
}

describe(RedisConnection.name, () => {
  let server: TestRedisServer;

  beforeAll(async () => {
    server = await TestRedisServer.start();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('connects a command client and a subscriber, and closes both on shutdown', async () => {
    const { moduleRef, redis } = await connection({ url: server.url, clientName: 'conn-a' });
    expect(redis.isReady).toBe(true);
    expect((await clientNames(server)).sort()).toEqual(['conn-a', 'conn-a-sub']);
    await redis.subscribe('conn-a:channel', () => undefined);
    expect(await redis.run((c) => c.pubSubNumSub('conn-a:channel'))).toEqual({ 'conn-a:channel': 1 });
    await moduleRef.close();
    await waitFor(async () => (await clientNames(server)).length === 0, 2_000, 'the clients to disconnect');
  });

  it('parses INFO and measures PING latency', async () => {
    const { moduleRef, redis } = await connection({ url: server.url });
    const info = await redis.info('server');
    expect(info.redis_version).toMatch(/^\d+\.\d+/);
    expect(info.tcp_port).toBe(String(server.port));
    expect(await redis.ping()).toBeGreaterThan(0);
    await moduleRef.close();
  });

  it('fails a call on a paused Redis at the deadline instead of waiting for it', async () => {
    const { moduleRef, redis } = await connection({ url: server.url, commandTimeoutMs: 150 });
    server.pause();
    try {
      const started = performance.now();
      const error = await redis.run((c) => c.get('some-key')).catch((e: unknown) => e);
      const elapsed = performance.now() - started;
      expect(error).toBeInstanceOf(RedisTimeoutError);
      // Generous slack for a loaded CI machine: the point is "not forever".
      expect(elapsed).toBeLessThan(1_000);
    } finally {
      server.resume();
    }
    // The connection survives the pause: the next call succeeds.
    await expect(redis.run((c) => c.ping())).resolves.toBe('PONG');
    await moduleRef.close();
  });

  it('shares one breaker: error replies leave it closed, deadline misses open it, a PING closes it', async () => {
    const { moduleRef, redis } = await connection({
      url: server.url,
      commandTimeoutMs: 150,
      breakerThreshold: 3,
      probeIntervalMs: 50,
    });
    const events: string[] = [];
    redis.onStateChange((event) => events.push(event));
    await redis.run((c) => c.set('breaker:string', 'x'));
    // The server answered (WRONGTYPE): not a health failure, however often.
    for (let i = 0; i < 5; i++) await redis.run((c) => c.lPush('breaker:string', 'y')).catch(() => undefined);
    expect(redis.available).toBe(true);
    server.pause();
    try {
      for (let i = 0; i < 2; i++) await redis.run((c) => c.get('k')).catch(() => undefined);
      expect(redis.available).toBe(true);
      await redis.run((c) => c.get('k')).catch(() => undefined);
      expect(redis.available).toBe(false);
      expect(events).toEqual(['down']);
    } finally {
      server.resume();
    }
    await waitFor(() => redis.available, 5_000, 'the probe to close the breaker');
    expect(events).toEqual(['down', 'ready']);
    await moduleRef.close();
  });

  it('reports down when Redis dies, rejects calls at once, and reconnects when it returns', async () => {
    const { moduleRef, redis } = await connection({ url: server.url, reconnectMaxDelayMs: 500 });
    try {
      await waitFor(() => redis.subscriberReady, 2_000, 'the subscriber to connect');
      const events: string[] = [];
      redis.onStateChange((event) => events.push(event));
      await server.kill();
      await waitFor(() => events.length === 2, 2_000, 'both connections to report down');
      expect(events).toEqual(['down', 'down']);
      expect(redis.isReady).toBe(false);
      const started = performance.now();
      await expect(redis.run((c) => c.ping())).rejects.toThrow();
      expect(performance.now() - started).toBeLessThan(200);
      await server.restart();
      await waitFor(() => events.length === 4, 5_000, 'both connections to come back');
      expect(events.slice(2)).toEqual(['ready', 'ready']);
      await expect(redis.run((c) => c.ping())).resolves.toBe('PONG');
    } finally {
      await moduleRef.close();
    }
  });

  it('boots without an unreachable optional Redis and picks it up when it appears', async () => {
    const late = await freePort();
    const { moduleRef, redis } = await connection({ url: `redis://127.0.0.1:${late}`, reconnectMaxDelayMs: 300 });
    expect(redis.enabled).toBe(true);
    expect(redis.isReady).toBe(false);
    const lateServer = await TestRedisServer.startOn(late);
    try {
      await waitFor(() => redis.isReady, 5_000, 'the late Redis to be picked up');
    } finally {
      await moduleRef.close();
      await lateServer.stop();
    }
  });

  it('refuses to start when Redis is required and unreachable, without leaking the password', async () => {
    const dead = await freePort();
    const error = await connection({
      url: `redis://:s3cret@127.0.0.1:${dead}`,
      required: true,
      connectTimeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toContain(`redis://***@127.0.0.1:${dead}`);
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('pointed as a cluster at a node without cluster support, serves without it and says why', async () => {
    const { moduleRef, redis } = await connection({
      cluster: { nodes: [{ host: '127.0.0.1', port: server.port }] },
      connectTimeoutMs: 500,
    });
    try {
      expect(redis.isReady).toBe(false);
      await expect(redis.ping()).rejects.toThrow(
        /no slot map: no configured node answered as a cluster node \(.*cluster support disabled/,
      );
    } finally {
      await moduleRef.close();
    }
  });

  it('opens no connection and hands out no client without a URL', async () => {
    const { moduleRef, redis } = await connection({});
    expect(redis.enabled).toBe(false);
    expect(() => redis.client).toThrow(/not configured/);
    await moduleRef.close();
  });
});
