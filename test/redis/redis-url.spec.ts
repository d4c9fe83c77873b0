import type { LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createClient } from '@redis/client';
import {
  RedisConnection,
  RedisModule,
  RedisUnavailableError,
  type RedisClient,
  type RedisModuleOptions,
} from '@app/redis';
import { waitFor } from '../support/free-port';
import { TestRedisServer } from '../support/redis-server';

/** The server's password: every character that must be percent-encoded in a URL's userinfo. */
const PASSWORD = 'p@ss:w/rd%';
const WRONG_PASSWORD = 'Wr0ng:p@ss/w%rd';

/** Every line logged at every level, for asserting on what an operator would see. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log = (message: unknown) => this.lines.push(`log ${String(message)}`);
  error = (message: unknown) => this.lines.push(`error ${String(message)}`);
  warn = (message: unknown) => this.lines.push(`warn ${String(message)}`);
  debug = (message: unknown) => this.lines.push(`debug ${String(message)}`);
  verbose = (message: unknown) => this.lines.push(`verbose ${String(message)}`);
}

async function connection(options: RedisModuleOptions, logger: LoggerService | false = false) {
  const moduleRef = await Test.createTestingModule({ imports: [RedisModule.forRoot(options)] })
    .setLogger(logger || new CapturingLogger())
    .compile();
  await moduleRef.init();
  return { moduleRef, redis: moduleRef.get(RedisConnection) };
}

/** Every spelling of a password that must never appear in a message. */
const spellings = (password: string) => [password, encodeURIComponent(password)];

describe('RedisConnection with a password and a database index in its URL', () => {
  let server: TestRedisServer;
  const observers: RedisClient[] = [];

  /** An independent client on database `db`, closed after the tests. */
  async function observer(db: number): Promise<RedisClient> {
    const client: RedisClient = createClient({ url: server.urlFor(db) });
    client.on('error', () => undefined);
    await client.connect();
    observers.push(client);
    return client;
  }

  beforeAll(async () => {
    server = await TestRedisServer.start({ password: PASSWORD });
  });

  afterAll(async () => {
    for (const client of observers) client.destroy();
    await server?.stop();
  });

  it('authenticates with a URL-encoded password and writes to the database the URL names', async () => {
    const url = server.urlFor(3);
    expect(url).toContain(`:${encodeURIComponent(PASSWORD)}@`);
    expect(url).toMatch(/\/3$/);
    const { moduleRef, redis } = await connection({ url, clientName: 'db3-test', required: true });
    try {
      expect(redis.isReady).toBe(true);
      await redis.run((c) => c.set('redis-url-spec:key', 'written-through-db-3'));
      const [db3, db0] = [await observer(3), await observer(0)];
      expect(await db3.get('redis-url-spec:key')).toBe('written-through-db-3');
      expect(await db0.get('redis-url-spec:key')).toBeNull();
      // Both connections (commands and pub/sub) selected database 3.
      const ours = (await db0.clientList()).filter((c) => c.name.startsWith('db3-test'));
      expect(ours.map((c) => [c.name, c.db]).sort()).toEqual([
        ['db3-test', 3],
        ['db3-test-sub', 3],
      ]);
    } finally {
      await moduleRef.close();
    }
  });

  it('refuses to start a required connection with a wrong password, naming WRONGPASS and showing no password', async () => {
    const logger = new CapturingLogger();
    const error = await connection({ url: server.urlFor(3, WRONG_PASSWORD), required: true }, logger).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RedisUnavailableError);
    const message = (error as Error).message;
    expect(message).toMatch(/^Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+\/3 refused authentication \(WRONGPASS /);
    expect(message).toContain('CACHE_BACKEND=redis requires it');
    for (const text of [message, ...logger.lines]) {
      for (const secret of [...spellings(WRONG_PASSWORD), ...spellings(PASSWORD)]) expect(text).not.toContain(secret);
    }
  });

  it('serves without an optional Redis that refuses the password, warning why, and keeps the password out of every log', async () => {
    const logger = new CapturingLogger();
    const { moduleRef, redis } = await connection(
      { url: server.urlFor(3, WRONG_PASSWORD), reconnectMaxDelayMs: 100 },
      logger,
    );
    try {
      expect(redis.isReady).toBe(false);
      const warning = logger.lines.find((line) => line.startsWith('warn '));
      expect(warning).toMatch(/refused authentication \(WRONGPASS .*: serving without it, retrying$/);
      // Let a few reconnection attempts log their (debug) failures too.
      await waitFor(() => logger.lines.filter((l) => l.includes('WRONGPASS')).length >= 4, 5_000, 'retries');
      const all = logger.lines.join('\n');
      for (const secret of [...spellings(WRONG_PASSWORD), ...spellings(PASSWORD)]) expect(all).not.toContain(secret);
    } finally {
      await moduleRef.close();
    }
  });
});
