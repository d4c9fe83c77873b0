import type { RedisConnection, RedisConnectionEvent } from '@app/redis';
import type { Repository } from 'typeorm';
import type { RevocationEntity } from '../entities/revocation.entity';
import { RevocationService } from './revocation.service';

type Row = Pick<RevocationEntity, 'kind' | 'subject' | 'expiresAt'>;

/**
 * A stand-in for the revocations table: each read waits for the test to
 * answer it, and records whether it was a full reload or an incremental one.
 */
function fakeTable() {
  const reads: Array<{ full: boolean; answer: (rows: Row[]) => void }> = [];
  const builder = (full = true) => ({
    select: () => builder(full),
    where: () => builder(full),
    andWhere: () => builder(false),
    delete: () => builder(full),
    execute: () => Promise.resolve({}),
    getMany: () => new Promise<Row[]>((answer) => reads.push({ full, answer })),
  });
  const repository = {
    query: () => Promise.resolve([{ now: new Date() }]),
    createQueryBuilder: () => builder(),
    insert: () => Promise.resolve({}),
    manager: { query: () => Promise.resolve([]) },
  };
  return { reads, repository: repository as unknown as Repository<RevocationEntity> };
}

/** Enough of a Redis connection for the service to watch its state (no bus traffic). */
function fakeRedis() {
  let listener: (event: RedisConnectionEvent) => void = () => undefined;
  const redis = {
    enabled: true,
    isReady: false,
    available: false,
    subscriberReady: false,
    subscribe: () => Promise.resolve(),
    unsubscribe: () => Promise.resolve(),
    onStateChange: (l: typeof listener) => {
      listener = l;
      return () => undefined;
    },
  };
  return { redis: redis as unknown as RedisConnection, emit: (event: RedisConnectionEvent) => listener(event) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe(RevocationService.name, () => {
  it('runs the reload of a reconnect that arrives while a poll is running, once that poll ends', async () => {
    const table = fakeTable();
    const { redis, emit } = fakeRedis();
    const service = new RevocationService(table.repository, { jwt: {}, revocationPollMs: 600_000 }, redis);
    const boot = service.onApplicationBootstrap();
    await settle();
    table.reads.shift()!.answer([]);
    await boot;
    expect(service.ready).toBe(true);

    // The command client comes back: a reload starts, and reads before the revocation below commits.
    emit('ready');
    await settle();
    expect(table.reads).toHaveLength(1);
    // The subscriber comes back while that reload runs: revocations published meanwhile were missed.
    emit('ready');
    table.reads.shift()!.answer([]);
    await settle();

    expect(table.reads).toHaveLength(1);
    expect(table.reads[0].full).toBe(true);
    const expiresAt = new Date(Date.now() + 60_000);
    table.reads.shift()!.answer([{ kind: 'jti', subject: 'missed', expiresAt }]);
    await settle();
    expect(service.isRevoked({ jti: 'missed', sid: 's' })).toBe(true);
    await service.onApplicationShutdown();
  });

  it('fails closed again when Postgres has not been read for too long and no bus covers the gap', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const table = fakeTable();
      const service = new RevocationService(table.repository, { jwt: {}, revocationPollMs: 1_000 });
      const boot = service.onApplicationBootstrap();
      await settle();
      table.reads.shift()!.answer([]);
      await boot;
      const token = { jti: 'j', sid: 's' };
      expect(service.isRevoked(token)).toBe(false);

      // Postgres stops answering: the next poll hangs, and the ones after it wait for it.
      jest.advanceTimersByTime(59_000);
      await settle();
      expect(table.reads).toHaveLength(1);
      expect(service.isRevoked(token)).toBe(false);
      jest.advanceTimersByTime(2_000);
      expect(() => service.isRevoked(token)).toThrow(expect.objectContaining({ code: 'E_AUTH_UNAVAILABLE' }));

      // Postgres answers again: the state is vouched for once more.
      table.reads.shift()!.answer([]);
      await settle();
      expect(service.isRevoked(token)).toBe(false);
      await service.onApplicationShutdown();
    } finally {
      jest.useRealTimers();
    }
  });

  it('reads Postgres every 500 ms while the bus cannot deliver and for 5 s after it is back, else every revocationPollMs', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const table = fakeTable();
      const { redis, emit } = fakeRedis();
      const up = redis as { subscriberReady: boolean; available: boolean };
      up.subscriberReady = up.available = true;
      const service = new RevocationService(table.repository, { jwt: {}, revocationPollMs: 2_000 }, redis);
      const boot = service.onApplicationBootstrap();
      await settle();
      table.reads.shift()!.answer([]);
      await boot;
      /** Advances the clock by `ms` and answers the reads it started: how many. */
      const readsWithin = async (ms: number): Promise<number> => {
        let reads = 0;
        for (let t = 0; t < ms; t += 100) {
          jest.advanceTimersByTime(100);
          await settle();
          for (; table.reads.length > 0; reads++) table.reads.shift()!.answer([]);
          await settle();
        }
        return reads;
      };

      // The bus listens: the regular interval.
      expect(await readsWithin(4_000)).toBe(2);
      // Redis is lost: the bus cannot deliver, Postgres is the only path.
      up.subscriberReady = false;
      emit('down');
      expect(await readsWithin(2_000)).toBe(4);
      // Back: a full reload at once, then the short interval while the subscription settles, then the regular one.
      up.subscriberReady = true;
      emit('ready');
      await settle();
      expect(table.reads.map((r) => r.full)).toEqual([true]);
      table.reads.shift()!.answer([]);
      expect(await readsWithin(5_000)).toBeGreaterThanOrEqual(9);
      expect(await readsWithin(4_000)).toBe(2);
      // Paused (SIGSTOP): the subscriber's socket stays up, but calls miss their deadlines and the
      // connection counts Redis unavailable. Nothing is delivered: Postgres is the only path again.
      up.available = false;
      emit('down');
      expect(await readsWithin(2_000)).toBe(4);
      await service.onApplicationShutdown();
    } finally {
      jest.useRealTimers();
    }
  });

  it('fails closed until the revocations have been read once', () => {
    const service = new RevocationService(fakeTable().repository, { jwt: {} });
    expect(() => service.isRevoked({ jti: 'j', sid: 's' })).toThrow(
      expect.objectContaining({ code: 'E_AUTH_UNAVAILABLE' }),
    );
  });
});
