import { Logger } from '@nestjs/common';
import type { RedisClient, RedisConnection } from '@app/redis';
import type { SessionEntity } from '../entities/session.entity';
import type { SessionView } from './session-view';

export const toSessionView = (s: SessionEntity): SessionView => ({
  id: s.id,
  createdAt: s.createdAt.toISOString(),
  lastUsedAt: s.lastUsedAt.toISOString(),
  expiresAt: s.expiresAt.toISOString(),
  userAgent: s.userAgent,
  ip: s.ip,
});

/**
 * The hot copy of sessions in Redis: `{prefix}:s:{id}` (expires with the
 * session) and `{prefix}:us:{userId}` (the user's session ids). Postgres is
 * the durable copy: every write here is best effort, and a read that finds
 * anything missing (Redis down, flushed, evicted) answers `undefined` so the
 * caller reads Postgres instead.
 */
export class SessionHotStore {
  private readonly logger = new Logger(SessionHotStore.name);

  constructor(
    private readonly redis: RedisConnection | undefined,
    private readonly prefix: string,
  ) {}

  private sessionKey = (id: string) => `${this.prefix}:s:${id}`;
  private userKey = (userId: string) => `${this.prefix}:us:${userId}`;

  async put(sessions: SessionEntity[], userId: string): Promise<void> {
    const live = sessions.filter((s) => s.expiresAt.getTime() > Date.now());
    await this.attempt('write', (client) => {
      const multi = client.multi();
      for (const s of live) {
        multi.set(this.sessionKey(s.id), JSON.stringify(toSessionView(s)), {
          expiration: { type: 'PXAT', value: s.expiresAt.getTime() },
        });
      }
      if (live.length > 0) {
        multi.sAdd(
          this.userKey(userId),
          live.map((s) => s.id),
        );
        const last = Math.max(...live.map((s) => s.expiresAt.getTime()));
        multi.pExpireAt(this.userKey(userId), last, 'GT');
        multi.pExpireAt(this.userKey(userId), last, 'NX');
      }
      return multi.exec();
    });
  }

  async remove(userId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.attempt('delete', (client) =>
      client.multi().del(ids.map(this.sessionKey)).sRem(this.userKey(userId), ids).exec(),
    );
  }

  /** The user's live sessions, or `undefined` when Redis cannot vouch for the full list. */
  async list(userId: string): Promise<SessionView[] | undefined> {
    return this.attempt('read', async (client) => {
      const ids = await client.sMembers(this.userKey(userId));
      if (ids.length === 0) return undefined; // no sessions, or a flushed set: ask Postgres
      const values = await client.mGet(ids.map(this.sessionKey));
      if (values.some((v) => v === null)) return undefined;
      return values.map((v) => JSON.parse(v as string) as SessionView);
    });
  }

  private async attempt<T>(what: string, operation: (client: RedisClient) => Promise<T>): Promise<T | undefined> {
    if (!this.redis?.isReady) return undefined;
    try {
      return await this.redis.run(operation);
    } catch (error) {
      this.logger.warn(`session hot copy ${what} failed (Postgres stays authoritative): ${String(error)}`);
      return undefined;
    }
  }
}
