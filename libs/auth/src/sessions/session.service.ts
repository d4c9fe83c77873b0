import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { AuthError } from '../auth.errors';
import { AUTH_OPTIONS } from '../auth.module-definition';
import { resolveAuthOptions, type AuthModuleOptions, type ResolvedAuthOptions } from '../auth.options';
import { RefreshRotationEntity } from '../entities/refresh-rotation.entity';
import { SessionEntity } from '../entities/session.entity';
import { FOREIGN_KEY_VIOLATION, pgCode } from '../postgres-errors';
import { RevocationService } from '../revocation/revocation.service';
import { toSessionView, type SessionMeta, type SessionView } from './session-view';

/** Revocations of a session outlive its last access token by this margin (clock skew between instances). */
const SKEW_MS = 60_000;

const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `{sessionId}.{secret}`, or undefined when the token cannot be one of ours. */
function parseRefreshToken(token: string): { id: string; secret: string } | undefined {
  const [id, secret, extra] = token.split('.');
  if (extra !== undefined || !UUID.test(id ?? '') || !/^[A-Za-z0-9_-]{43}$/.test(secret ?? '')) return undefined;
  return { id, secret };
}

/**
 * Refresh sessions. A refresh token is `{sessionId}.{secret}`; Postgres keeps
 * the SHA-256 of the current secret and of every rotated one. Rotation is a
 * compare-and-set on the current hash, so a token works once; presenting a
 * rotated one is reuse and ends the session. Ending a session revokes every
 * access token issued for it (a `sid` revocation).
 *
 * Sessions live in Postgres only. A Redis copy (the design's `{prefix}:s:{id}`
 * and `{prefix}:us:{userId}`) would be read by nothing on a hot path
 * (refresh must compare-and-set in Postgres, access checks use the in-memory
 * revocations) and could only disagree with the truth after a flush, an
 * eviction or a write made while Redis was down: a session list missing a
 * live session hides it from the user who wants to end it.
 */
@Injectable()
export class SessionService {
  private readonly options: ResolvedAuthOptions;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly revocations: RevocationService,
    @Inject(AUTH_OPTIONS) options: AuthModuleOptions,
  ) {
    this.options = resolveAuthOptions(options);
  }

  /** A new session; `E_AUTH_INVALID_CREDENTIALS` when the user was deleted since their credentials were checked. */
  async create(userId: string, meta: SessionMeta): Promise<{ session: SessionEntity; refreshToken: string }> {
    const secret = randomBytes(32).toString('base64url');
    const now = new Date();
    const session = await this.db
      .getRepository(SessionEntity)
      .save({
        id: randomUUID(),
        userId,
        secretHash: sha256(secret),
        createdAt: now,
        lastUsedAt: now,
        expiresAt: new Date(now.getTime() + this.options.jwt.refreshTtl * 1000),
        revokedAt: null,
        userAgent: meta.userAgent?.slice(0, 256) ?? null,
        ip: meta.ip?.slice(0, 64) ?? null,
      })
      .catch((error: unknown) => {
        if (pgCode(error) === FOREIGN_KEY_VIOLATION) {
          throw new AuthError('E_AUTH_INVALID_CREDENTIALS', 'Invalid email or password');
        }
        throw error;
      });
    return { session, refreshToken: `${session.id}.${secret}` };
  }

  /** Swaps a refresh token for a new one (and extends the session); refuses reuse and ends that session. */
  async rotate(refreshToken: string, meta: SessionMeta): Promise<{ session: SessionEntity; refreshToken: string }> {
    const parsed = parseRefreshToken(refreshToken);
    if (!parsed) throw new AuthError('E_AUTH_REFRESH_INVALID', 'Invalid refresh token');
    const oldHash = sha256(parsed.secret);
    const secret = randomBytes(32).toString('base64url');
    const session = await this.db.transaction(async (tx) => {
      // Compare-and-set on the current hash: of two refreshes with one token, one updates a row.
      const { affected } = await tx
        .createQueryBuilder()
        .update(SessionEntity)
        .set({
          secretHash: sha256(secret),
          lastUsedAt: () => 'now()',
          expiresAt: () => `now() + make_interval(secs => ${this.options.jwt.refreshTtl})`,
          ...(meta.userAgent && { userAgent: meta.userAgent.slice(0, 256) }),
          ...(meta.ip && { ip: meta.ip.slice(0, 64) }),
        })
        .where('id = :id AND secret_hash = :oldHash AND revoked_at IS NULL AND expires_at > now()', {
          id: parsed.id,
          oldHash,
        })
        .execute();
      if (!affected) return undefined;
      await tx.insert(RefreshRotationEntity, { secretHash: oldHash, sessionId: parsed.id, rotatedAt: new Date() });
      return tx.findOneByOrFail(SessionEntity, { id: parsed.id });
    });
    if (session) return { session, refreshToken: `${session.id}.${secret}` };
    const reused = await this.db
      .getRepository(RefreshRotationEntity)
      .existsBy({ secretHash: oldHash, sessionId: parsed.id });
    if (reused) {
      await this.end({ ids: [parsed.id] });
      throw new AuthError('E_AUTH_REFRESH_REUSED', 'Refresh token was already used; the session has been ended');
    }
    throw new AuthError('E_AUTH_REFRESH_INVALID', 'Invalid refresh token');
  }

  /** The user's live sessions, newest first. */
  async list(userId: string): Promise<SessionView[]> {
    const rows = await this.db
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .where('s.user_id = :userId AND s.revoked_at IS NULL AND s.expires_at > now()', { userId })
      .orderBy('s.created_at', 'DESC')
      .getMany();
    return rows.map(toSessionView);
  }

  /** Ends one of the user's own sessions; `E_AUTH_SESSION_NOT_FOUND` for anyone else's. */
  async endOwn(userId: string, sessionId: string): Promise<void> {
    if (!UUID.test(sessionId)) throw new AuthError('E_AUTH_SESSION_NOT_FOUND', 'Session not found');
    const ended = await this.end({ ids: [sessionId], userId });
    if (ended.length === 0) throw new AuthError('E_AUTH_SESSION_NOT_FOUND', 'Session not found');
  }

  /** Ends every session of the user whose access tokens may still be live. */
  endAll(userId: string): Promise<string[]> {
    return this.end({ userId });
  }

  /**
   * Ids of the user's sessions that have not been ended, read through
   * `manager` (a transaction deleting the user reads them after locking the
   * user row, so no login can add one it would miss).
   */
  async openSessionIds(userId: string, manager: EntityManager = this.db.manager): Promise<string[]> {
    const rows = await manager
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .select(['s.id'])
      .where('s.user_id = :userId AND s.revoked_at IS NULL', { userId })
      .andWhere('s.expires_at > now() - make_interval(secs => :ttl)', { ttl: this.options.jwt.accessTtl })
      .getMany();
    return rows.map((s) => s.id);
  }

  /**
   * Revokes every access token issued for these sessions, whether or not
   * their rows still exist (a deleted user's sessions go with the user).
   * Postgres first: `E_AUTH_UNAVAILABLE` if that fails.
   */
  revokeAccess(sessionIds: string[]): Promise<void> {
    const expiresAt = Date.now() + this.options.jwt.accessTtl * 1000 + SKEW_MS;
    return this.revocations.revoke(sessionIds.map((id) => ({ kind: 'sid', subject: id, expiresAt })));
  }

  /**
   * Revokes the sessions' access tokens (Postgres first: fail closed), then
   * marks the sessions ended so their refresh tokens stop working. Returns
   * the ids ended.
   */
  private async end(filter: { ids?: string[]; userId?: string }): Promise<string[]> {
    const query = this.db
      .getRepository(SessionEntity)
      .createQueryBuilder('s')
      .select(['s.id'])
      .where(`s.revoked_at IS NULL AND s.expires_at > now() - make_interval(secs => :ttl)`, {
        ttl: this.options.jwt.accessTtl,
      });
    if (filter.ids) query.andWhere('s.id IN (:...ids)', { ids: filter.ids });
    if (filter.userId) query.andWhere('s.user_id = :userId', { userId: filter.userId });
    const sessions = await query.getMany();
    if (sessions.length === 0) return [];
    const ids = sessions.map((s) => s.id);
    await this.revokeAccess(ids);
    await this.db.getRepository(SessionEntity).update(ids, { revokedAt: new Date() });
    return ids;
  }
}
